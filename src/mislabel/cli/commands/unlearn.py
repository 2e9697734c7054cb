"""`mislabel unlearn`: forget a set of training samples from a trained model."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mislabel.cli.help_text import example
from mislabel.cli.inputs import (
    CliError,
    check_flags,
    check_inputs,
    check_outputs,
)
from mislabel.cli.options import (
    add_curvature,
    add_unlearning,
    settings_from,
    train_settings,
)
from mislabel.registry import TARGETS, UNLEARNERS
from mislabel.settings import (
    CurvatureSettings,
    UnlearningSettings,
)

Log = Callable[[str], None]
SUMMARY = "forget a set of training samples from a trained model"
EPILOG = example(
    """
    examples:
      mislabel unlearn --data run/noisy.npz --model run/model.msgpack --unlearner ssse \\
          --target detected --scores run/scores.npz --out run/ssse.msgpack \\
          --info run/ssse.json
      mislabel unlearn --data run/noisy.npz --model run/model.msgpack \\
          --unlearner retrain --target mislabeled --out run/retrain.msgpack \\
          --info run/retrain.json
    """
)
RENAMED = {"--rtol": "--pinv-rtol"}  # old option names, accepted until the next release


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset file the model was trained on")
    p.add_argument("--model", required=True, help="model file from train")
    p.add_argument(
        "--unlearner",
        choices=UNLEARNERS,
        required=True,
        help="influence: Koh & Liang step; ssse: Newton step on the rest; finetune: keep "
        "training on the rest; retrain: train afresh on the rest",
    )
    p.add_argument(
        "--target",
        choices=TARGETS,
        required=True,
        help="forget the truly mislabeled samples (known for noise datasets), the ones "
        "flagged in --scores (detected), or the top m-hat of --scores with m-hat estimated "
        "by an aum/cleanlab score file (detected_estimated)",
    )
    p.add_argument("--scores", help="score file from score (needed for the detected targets)")
    p.add_argument(
        "--budget",
        help="detected_estimated: score file of aum or cleanlab whose estimate m-hat sets "
        "the budget (default: --scores itself)",
    )
    add_curvature(p)
    add_unlearning(p)
    p.add_argument("--out", required=True, help="unlearned model file to write (.msgpack)")
    p.add_argument("--info", required=True, help="unlearning info to write (.json)")


def run(args: argparse.Namespace, log: Log) -> dict:
    from mislabel.files.dataset import load_dataset_file

    if args.target != "mislabeled" and args.scores is None:
        raise CliError(
            f"--target {args.target} needs --scores (the file written by `mislabel score`)"
        )
    if args.target == "mislabeled" and args.scores is not None:
        raise CliError("--scores is only used with --target detected or detected_estimated")
    if args.budget is not None and args.target != "detected_estimated":
        raise CliError("--budget is only used with --target detected_estimated")
    budget = args.budget or (args.scores if args.target == "detected_estimated" else None)
    check_inputs(
        dataset_file=args.data, model_file=args.model, score_file=args.scores, budget=budget
    )
    check_outputs(args.out, args.info, inputs=[args.data, args.scores, budget])
    ds = load_dataset_file(args.data)
    if args.scores is not None:
        check_flags(args.scores, ds.y_train.size)
    elif not ds.flipped.any():
        log("note: the dataset records no mislabeled samples; the forget set is empty")
    from mislabel.stages.unlearn import unlearn_run

    [info] = unlearn_run(
        args.data,
        args.model,
        {args.target: args.out},
        {args.target: args.info},
        None,
        unlearner=args.unlearner,
        scores_path=args.scores,
        budget_path=budget,
        curvature=settings_from(CurvatureSettings, args),
        training=train_settings(args),
        unlearning=settings_from(UnlearningSettings, args),
        seed=args.seed,
        log=log,
    )
    log(f"wrote {args.out} and {args.info}")
    return info
