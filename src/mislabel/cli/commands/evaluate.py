"""`mislabel evaluate`: test accuracy of the pre-trained and unlearned models."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mislabel.cli.help_text import example
from mislabel.cli.inputs import (
    CliError,
    check_inputs,
    check_outputs,
    read_info,
)

Log = Callable[[str], None]
SUMMARY = "test accuracy of the pre-trained and unlearned models"
EPILOG = example(
    """
    example:
      mislabel evaluate --data run/noisy.npz --pretrained run/model.msgpack \\
          --unlearned run/ssse.msgpack run/ssse.json --out run/eval.csv
    """
)


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset file with a test split")
    p.add_argument("--pretrained", required=True, help="model file from train")
    p.add_argument(
        "--unlearned",
        nargs=2,
        metavar=("MODEL", "INFO"),
        action="append",
        default=[],
        help="an unlearned model and its info file from unlearn (repeatable)",
    )
    p.add_argument("--out", required=True, help="CSV to write, one row per model")


def run(args: argparse.Namespace, log: Log) -> list[dict]:
    from mislabel.files.dataset import load_dataset_file

    unlearned = [tuple(pair) for pair in args.unlearned]
    check_inputs(dataset_file=args.data, pretrained_model_file=args.pretrained)
    for model, info in unlearned:
        check_inputs(unlearned_model_file=model, info_file=info)
    check_outputs(args.out, inputs=[args.data, args.pretrained])
    seen: dict[tuple[str, str], str] = {("pretrained", "none"): str(args.pretrained)}
    for model, info_path in unlearned:
        info = read_info(info_path)
        key = (info["unlearner"], info["target"])
        if key in seen:
            raise CliError(
                f"{model} and {seen[key]} are both unlearner={key[0]!r}, target={key[1]!r}; "
                "evaluate them in separate runs"
            )
        seen[key] = model
    if load_dataset_file(args.data).y_test.size == 0:
        raise CliError(f"dataset {args.data} has no test split; nothing to evaluate on")
    from mislabel.stages.evaluate import evaluate_models

    rows = evaluate_models(args.data, args.pretrained, unlearned, args.out, log=log)
    log(f"wrote {args.out}")
    return rows
