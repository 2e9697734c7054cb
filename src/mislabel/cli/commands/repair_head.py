"""`mislabel repair-head`: repair any classifier through its last layer
(`mislabel.repair.head_repair`), from the features, labels and head it exported.

Every input is read and checked (NumPy only) before JAX is imported or any work starts;
the repair's own verdict decides whether anything is written."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mislabel.cli.help_text import example
from mislabel.cli.inputs import (
    RATIO_TEXT,
    CliError,
    check_inputs,
    check_outputs,
    check_report_dir,
    ratio_value,
)
from mislabel.cli.options import (
    DETECTION_OPTIONS,
    PAPER,
    add_curvature,
    add_judge_options,
    add_settings,
    add_unlearning,
    settings_from,
    unlearner_help,
)
from mislabel.registry import HEAD_DETECTORS, HEAD_UNLEARNERS
from mislabel.settings import (
    CurvatureSettings,
    DetectionSettings,
    RepairSettings,
    UnlearningSettings,
)

Log = Callable[[str], None]
SUMMARY = "repair any classifier through its last layer, judged on a holdout"
EPILOG = example(
    """
    example (recommended: judged on samples the model never trained on):
      mislabel repair-head --features feats.npy --labels labels.npy --head head.npz \\
          --holdout-features hfeats.npy --holdout-labels hlabels.npy \\
          --out repaired.npz --report-dir report --ratio 0.05

    head.npz holds the last linear layer, logits = features @ W + b: W (D x C), b (C).
    Without a holdout the repair is judged on out-of-fold predictions of a K-fold
    cross-fit (--folds); the features still come from a backbone that saw every
    training sample. The repaired head is written only if the 95% interval of its
    change in accuracy lies above -margin (--margin points); otherwise exit status 2
    and nothing is written (unless --allow-worse); also when more than half the
    samples would be flagged. Accuracy is against the labels as given.
    """
)
DEFAULTS = RepairSettings()


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--features", required=True, help="penultimate features, N x D float (.npy)")
    p.add_argument("--labels", required=True, help="their given labels, N integers 0..C-1 (.npy)")
    p.add_argument(
        "--head", required=True, help="the last linear layer: .npz with W (D x C), b (C)"
    )
    p.add_argument("--out", required=True, help="repaired head to write (.npz with W and b)")
    p.add_argument(
        "--holdout-features",
        help="features of labelled samples the model never trained on (.npy): the "
        "recommended judge of the repair",
    )
    p.add_argument("--holdout-labels", help="their labels (.npy)")
    p.add_argument(
        "--detector",
        choices=HEAD_DETECTORS,
        default=DEFAULTS.detector,
        help="anomaly score (aum needs per-epoch training margins, which a head lacks)",
    )
    add_settings(p, DetectionSettings, DETECTION_OPTIONS)
    p.add_argument(
        "--unlearner",
        choices=HEAD_UNLEARNERS,
        default=DEFAULTS.unlearner,
        help=unlearner_help(" (influence and ssse: one damped Newton step on W and b)"),
    )
    p.add_argument(
        "--ratio",
        type=ratio_value,
        help=f"assumed noise ratio r {RATIO_TEXT}: flag round(n r); without it the budget is "
        "estimated (by the detector if it can, else by confident learning)",
    )
    add_judge_options(p, "--holdout-features/--holdout-labels")
    add_curvature(p)
    add_unlearning(p)


def load_inputs(args: argparse.Namespace):
    """The features, labels, head and holdout, read and checked (no JAX): one-line errors
    that name the file at fault."""
    import numpy as np

    from mislabel.files.arrays import load_npy
    from mislabel.repair.head import (
        check_features,
        check_head,
        check_labels,
        load_head,
        training_min_classes,
    )

    def array(flag: str, path: str) -> np.ndarray:
        return load_npy(path, f"{flag} file")

    x = check_features(array("--features", args.features), f"--features {args.features}")
    if args.image_shape is not None and args.image_shape[0] * args.image_shape[1] != x.shape[1]:
        raise CliError(
            f"--image-shape {args.image_shape[0]} {args.image_shape[1]} has "
            f"{args.image_shape[0] * args.image_shape[1]} pixels, --features {args.features} "
            f"{x.shape[1]} values per sample"
        )
    W, b = check_head(*load_head(args.head), x.shape[1])
    c = W.shape[1]
    what = f"--labels {args.labels}"
    y = check_labels(
        array("--labels", args.labels), x.shape[0], c, what, min_classes=training_min_classes(c)
    )
    holdout = {}
    if args.holdout_features is not None:
        xh = check_features(
            array("--holdout-features", args.holdout_features),
            f"--holdout-features {args.holdout_features}",
        )
        if xh.shape[1] != x.shape[1]:
            raise CliError(
                f"--holdout-features {args.holdout_features} has {xh.shape[1]} columns, "
                f"--features {args.features} {x.shape[1]}: they must be the same features"
            )
        yh = check_labels(
            array("--holdout-labels", args.holdout_labels),
            xh.shape[0],
            c,
            f"--holdout-labels {args.holdout_labels}",
        )
        holdout = {"holdout_features": xh, "holdout_labels": yh}
    elif x.shape[0] < 2 * args.folds:
        raise CliError(
            f"--features {args.features} has {x.shape[0]} samples, too few for a "
            f"{args.folds}-fold cross-fit; give --holdout-features/--holdout-labels or a "
            "smaller --folds"
        )
    return x, y, W, b, holdout


def run(args: argparse.Namespace, log: Log) -> dict:
    if (args.holdout_features is None) != (args.holdout_labels is None):
        raise CliError("give both --holdout-features and --holdout-labels, or neither")
    if args.folds < 2:
        raise CliError(f"--folds must be at least 2, got {args.folds}")
    check_inputs(
        features=args.features,
        labels=args.labels,
        head_file=args.head,
        holdout_features=args.holdout_features,
        holdout_labels=args.holdout_labels,
    )
    inputs = [args.features, args.labels, args.head, args.holdout_features, args.holdout_labels]
    check_outputs(args.out, inputs=inputs)
    if args.report_dir is not None:
        check_report_dir(args.report_dir, [*inputs, args.out])
    x, y, W, b, holdout = load_inputs(args)
    from mislabel.repair.head import save_head  # after the checks: the repair imports JAX
    from mislabel.repair.head_repair import repair_head
    from mislabel.report.flagged import write_repair_report
    from mislabel.settings import TrainConfig

    config = TrainConfig(
        *(
            getattr(args, k) if getattr(args, k) is not None else getattr(PAPER, k)
            for k in PAPER._fields
        )
    )
    repair = repair_head(
        x,
        y,
        W,
        b,
        **holdout,
        train_config=config,
        curvature=settings_from(CurvatureSettings, args),
        detection=settings_from(DetectionSettings, args),
        unlearning=settings_from(UnlearningSettings, args),
        detector=args.detector,
        unlearner=args.unlearner,
        ratio=args.ratio,
        margin=args.margin,
        folds=args.folds,
        allow_worse=args.allow_worse,
        seed=args.seed or 0,
        log=log,
    )
    if args.report_dir is not None:
        write_repair_report(
            args.report_dir,
            scores_N=repair.scores_N,
            given_N=y,
            suggested_N=repair.predicted_N,
            flagged_N=repair.flagged_N,
            summary=repair.summary,
            features_NxD=x,
            image_shape=args.image_shape,
        )
    save_head(args.out, repair.W, repair.b)
    log(f"wrote {args.out}" + (f" and the report in {args.report_dir}" if args.report_dir else ""))
    return {**repair.summary, "out": args.out, "report_dir": args.report_dir}
