"""`mislabel repair`: flag the likely mislabeled samples and unlearn them, in one step
(`mislabel.repair.model_repair.repair_model`), then tell people what it flagged and what
it changed."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mislabel.cli.help_text import example
from mislabel.cli.inputs import (
    RATIO_TEXT,
    CliError,
    check_history,
    check_inputs,
    check_outputs,
    check_report_dir,
    ratio_value,
)
from mislabel.cli.options import (
    REPAIR,
    add_curvature,
    add_detector,
    add_judge_options,
    add_unlearning,
    settings_from,
    train_settings,
    unlearner_help,
)
from mislabel.registry import UNLEARNERS
from mislabel.settings import (
    CurvatureSettings,
    DetectionSettings,
    UnlearningSettings,
)

Log = Callable[[str], None]
SUMMARY = "flag the likely mislabeled samples and unlearn them, in one step"
EPILOG = example(
    """
    example:
      mislabel repair --data mine.npz --model model.msgpack --ratio 0.05 \\
          --out repaired.msgpack --scores-out flags.npz

    The model must be a file written by `mislabel train` for this dataset. The repair
    is judged on the dataset's test split, else on a K-fold cross-fit (--folds), and
    written only if the 95% interval of its change in accuracy lies above -margin
    (--margin points); otherwise exit status 2 and nothing is written (unless
    --allow-worse). Accuracy is against the labels as given, which may be wrong too.
    """
)
RENAMED = {"--rtol": "--pinv-rtol"}  # old option names, accepted until the next release


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset file the model was trained on")
    p.add_argument("--model", required=True, help="model file to repair (from train)")
    p.add_argument(
        "--ratio",
        type=ratio_value,
        help=f"estimated noise ratio r {RATIO_TEXT}, e.g. from auditing a sample of labels: "
        "flag round(n r); without it the budget is estimated (by the detector if it can, "
        "else by confident learning)",
    )
    add_detector(p)
    p.add_argument(
        "--unlearner",
        choices=UNLEARNERS,
        default=REPAIR.unlearner,
        help=unlearner_help(""),
    )
    add_curvature(p)
    add_unlearning(p)
    p.add_argument(
        "--out",
        required=True,
        help="repaired model file to write (.msgpack), written only if the repair is "
        "shown not to be worse",
    )
    p.add_argument("--scores-out", help="also write the scores and flags (.npz)")
    p.add_argument("--info-out", help="also write the repair's summary (.json)")
    add_judge_options(p, "a test split in the dataset file")


def run(args: argparse.Namespace, log: Log) -> dict:
    if args.folds < 2:
        raise CliError(f"--folds must be at least 2, got {args.folds}")
    check_history(args.detector, args.history)
    check_inputs(dataset_file=args.data, model_file=args.model, history=args.history)
    inputs = [args.data, args.model, args.history]
    check_outputs(args.out, args.scores_out, args.info_out, inputs=inputs)
    if args.report_dir is not None:
        check_report_dir(args.report_dir, [*inputs, args.out, args.scores_out, args.info_out])
    _check_data(args)
    from mislabel.repair.model_repair import repair_model  # after the checks: it imports JAX

    result = repair_model(
        args.data,
        args.model,
        args.out,
        ratio=args.ratio,
        detector=args.detector,
        unlearner=args.unlearner,
        history_path=args.history,
        scores_path=args.scores_out,
        info_path=args.info_out,
        curvature=settings_from(CurvatureSettings, args),
        detection=settings_from(DetectionSettings, args),
        training=train_settings(args),
        unlearning=settings_from(UnlearningSettings, args),
        seed=args.seed,
        report_dir=args.report_dir,
        image_shape=args.image_shape,
        allow_worse=args.allow_worse,
        margin=args.margin,
        folds=args.folds,
        log=log,
    )
    if not args.json:
        print(repair_summary(result, args.scores_out), flush=True)
    return result


def _check_data(args: argparse.Namespace) -> None:
    """The dataset file must hold enough samples for what will judge the repair, and
    `--image-shape` must fit its samples (NumPy only, before any work)."""
    from mislabel.files.dataset import load_dataset_file

    ds = load_dataset_file(args.data)
    n = ds.y_train.size
    if ds.y_test.size == 0 and n < 2 * args.folds:
        raise CliError(
            f"--data {args.data} has {n} training samples and no test split, too few for a "
            f"{args.folds}-fold cross-fit; pack a test split (mislabel pack --x-test "
            "--y-test) or give a smaller --folds"
        )
    if (
        args.image_shape is not None
        and args.image_shape[0] * args.image_shape[1] != (ds.x_train.shape[1])
    ):
        raise CliError(
            f"--image-shape {args.image_shape[0]} {args.image_shape[1]} does not fit the "
            f"{ds.x_train.shape[1]} values of each sample of --data {args.data}"
        )


def repair_summary(result: dict, scores_out: str | None, show: int = 20) -> str:
    """What `repair` flagged and what it did to the accuracy, for people."""
    idx = result["flagged_indices"]
    listed = " ".join(map(str, idx[:show]))
    if len(idx) > show:
        where = f"; all in {scores_out}" if scores_out else "; --json or --scores-out lists all"
        listed += f" ... ({len(idx) - show} more{where})"
    per_class = ", ".join(f"{c}: {k}" for c, k in result["flagged_per_given_class"].items())
    low, high = result["interval_points"]
    lines = [
        f"flagged {result['m']} of {result['n']} training samples as mislabeled "
        f"(top by {result['detector']} score; {result['budget_source']})",
        f"  indices: {listed or '(none)'}",
        f"  flagged per given label: {per_class}",
        f"accuracy {100 * result['accuracy_before']:.2f}% before, "
        f"{100 * result['accuracy_after']:.2f}% after {result['unlearner']} "
        f"({result['change_points']:+.2f} points, {result['confidence']:.0%} interval "
        f"[{low:+.2f}, {high:+.2f}]), judged on {result['judged_on']}",
        f"wrote {result['model']}",
    ]
    return "\n".join(lines)
