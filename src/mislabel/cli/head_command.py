"""`mislabel repair-head`: repair any classifier through its last layer
(`mislabel.repair_head`), from the features, labels and head it exported."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from mislabel.cli.checks import (
    CliError,
    check_inputs,
    check_outputs,
    check_writable_dir,
    noise_ratio,
    positive_int,
)
from mislabel.cli.options import (
    DETECTION_OPTIONS,
    PAPER,
    add_curvature,
    add_settings,
    add_unlearning,
    curvature_settings,
    settings_from,
)
from mislabel.names import DETECTORS, UNLEARNERS
from mislabel.settings import DetectionSettings, RepairSettings, UnlearningSettings

Log = Callable[[str], None]
DEFAULTS = RepairSettings()


def holdout_fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {text}")
    return value


def add_holdout_fraction(p: argparse.ArgumentParser, when: str) -> None:
    p.add_argument(
        "--holdout-fraction",
        type=holdout_fraction,
        default=DEFAULTS.holdout_fraction,
        help=f"{when}: this stratified fraction of the training data, never scored "
        "or unlearned, judges the repair",
    )


def add_repair_head(p: argparse.ArgumentParser) -> None:
    p.add_argument("--features", required=True, help="penultimate features, N x D float (.npy)")
    p.add_argument("--labels", required=True, help="their given labels, N integers 0..C-1 (.npy)")
    p.add_argument(
        "--head", required=True, help="the last linear layer: .npz with W (D x C), b (C)"
    )
    p.add_argument("--out", required=True, help="repaired head to write (.npz with W and b)")
    p.add_argument("--holdout-features", help="features of a labelled holdout set (.npy)")
    p.add_argument("--holdout-labels", help="its labels (.npy)")
    add_holdout_fraction(p, "without a holdout")
    p.add_argument(
        "--detector",
        choices=[d for d in DETECTORS if d != "aum"],
        default=DEFAULTS.detector,
        help="anomaly score (aum needs per-epoch training margins, which a head lacks)",
    )
    add_settings(p, DetectionSettings, DETECTION_OPTIONS)
    p.add_argument(
        "--unlearner",
        choices=UNLEARNERS,
        default=DEFAULTS.unlearner,
        help="how to forget the flagged samples; the default is the best by mean test "
        "accuracy over the noise ratios after forgetting the detected samples in "
        "paper_tables/table_ext_unlearners_accuracy.tex (MNIST 0 vs 1, 5 seeds)",
    )
    p.add_argument(
        "--ratio",
        type=noise_ratio,
        help="assumed noise ratio r: flag round(n r); without it the budget is estimated "
        "(by the detector if it can, else by cleanlab)",
    )
    add_report_options(p, required=True)
    add_curvature(p)
    add_unlearning(p)


def add_report_options(p: argparse.ArgumentParser, required: bool = False) -> None:
    """--report-dir, --image-shape and --allow-worse, shared by repair and repair-head."""
    p.add_argument(
        "--report-dir",
        required=required,
        help="folder for flagged.csv (every sample by score), summary.json and flagged.png",
    )
    p.add_argument(
        "--image-shape",
        nargs=2,
        type=positive_int,
        metavar=("H", "W"),
        help="the samples are H x W images: draw the top flagged ones in flagged.png "
        "(known for MNIST and Fashion-MNIST)",
    )
    p.add_argument(
        "--allow-worse",
        action="store_true",
        help="write the repaired model even if it is worse on the holdout beyond noise "
        "(one-sided sign test, p < 0.05); otherwise exit with status 2 and write none",
    )


def load_array(path: str, what: str):
    import numpy as np

    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise CliError(f"{what} {path} is not a .npy array ({err})") from None


def cmd_repair_head(args: argparse.Namespace, log: Log) -> dict:
    if (args.holdout_features is None) != (args.holdout_labels is None):
        raise CliError("give both --holdout-features and --holdout-labels, or neither")
    check_inputs(
        features=args.features,
        labels=args.labels,
        head_file=args.head,
        holdout_features=args.holdout_features,
        holdout_labels=args.holdout_labels,
    )
    inputs = [args.features, args.labels, args.head, args.holdout_features, args.holdout_labels]
    check_outputs(args.out, inputs=inputs)
    check_writable_dir(Path(args.report_dir))
    from mislabel.head import load_head, save_head  # after the checks: these import JAX
    from mislabel.repair_head import RepairRefused, repair_head
    from mislabel.report.flagged import write_repair_report
    from mislabel.train import TrainConfig

    W, b = load_head(args.head)
    x, y = load_array(args.features, "features"), load_array(args.labels, "labels")
    holdout = {}
    if args.holdout_features is not None:
        holdout = {
            "holdout_features": load_array(args.holdout_features, "holdout features"),
            "holdout_labels": load_array(args.holdout_labels, "holdout labels"),
        }
    config = TrainConfig(
        *(
            getattr(args, k) if getattr(args, k) is not None else getattr(PAPER, k)
            for k in PAPER._fields
        )
    )
    settings = {
        "train_config": config,
        "curvature": curvature_settings(args),
        "detection": settings_from(DetectionSettings, args),
        "unlearning": settings_from(UnlearningSettings, args),
    }
    try:
        repair = repair_head(
            x,
            y,
            W,
            b,
            **holdout,
            **settings,
            detector=args.detector,
            unlearner=args.unlearner,
            ratio=args.ratio,
            allow_worse=args.allow_worse,
            holdout_fraction=args.holdout_fraction,
            seed=args.seed or 0,
            log=log,
        )
    except RepairRefused as refused:
        if refused.repair is not None:
            report(write_repair_report, args, refused.repair, x, y)
        raise
    report(write_repair_report, args, repair, x, y)
    save_head(args.out, repair.W, repair.b)
    s = repair.summary
    log(
        f"holdout accuracy {s['holdout_accuracy_before']:.4f} -> "
        f"{s['holdout_accuracy_after']:.4f} ({s['holdout']}); wrote {args.out}"
    )
    return {**s, "out": args.out, "report_dir": args.report_dir}


def report(write, args: argparse.Namespace, repair, x, y) -> None:
    """The repair's report files (also for a refused repair: they show why)."""
    write(
        args.report_dir,
        scores_N=repair.scores_N,
        given_N=y,
        suggested_N=repair.predicted_N,
        flagged_N=repair.flagged_N,
        summary=repair.summary,
        features_NxD=x,
        image_shape=args.image_shape,
    )
