"""`mislabel find-issues`: flag label issues from predicted probabilities you already have
(`mislabel.find.find_issues`); no model is trained. Every input is read and checked
(NumPy only) before any work starts."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mislabel.cli.help_text import example
from mislabel.cli.inputs import (
    RATIO_TEXT,
    check_inputs,
    check_report_dir,
    ratio_value,
)
from mislabel.detectors.probabilities import (
    BUDGET_ESTIMATORS,
    DEFAULT_FLAG_BY,
    FLAG_RULES,
    PROB_DETECTORS,
    RATIO_FLAG_BY,
    check_probs,
)

Log = Callable[[str], None]
SUMMARY = "flag label issues from out-of-sample predicted probabilities you already have"
EPILOG = example(
    """
    example:
      mislabel find-issues --pred-probs probs.npy --labels labels.npy --report-dir issues
    probs.npy holds N x C out-of-sample predicted probabilities (each row from a model
    that never trained on that sample, e.g. by cross-validation), labels.npy the N given
    labels. Writes issues/flagged.csv (every sample, the flagged first),
    issues/summary.json and, with --images (N x H x W), issues/flagged.png.
    """
)


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pred-probs",
        required=True,
        help="out-of-sample predicted probabilities, N x C, rows summing to 1 (.npy)",
    )
    p.add_argument("--labels", required=True, help="the given labels, N integers 0..C-1 (.npy)")
    p.add_argument("--report-dir", required=True, help="folder for the report files")
    p.add_argument(
        "--detector",
        choices=tuple(PROB_DETECTORS),
        default=next(iter(PROB_DETECTORS)),
        help="score: self_confidence = 1 - p(given label); normalized_margin = how far the "
        "given label trails the best other class; confident_learning = members of the "
        "confident joint's off-diagonal first; confidence_weighted_entropy = entropy over "
        "p(given label)",
    )
    p.add_argument(
        "--ratio",
        type=ratio_value,
        help=f"assumed noise ratio r {RATIO_TEXT}: the budget m = round(N r) (default: as "
        "many as --budget-estimator estimates are mislabeled)",
    )
    p.add_argument(
        "--budget-estimator",
        choices=tuple(BUDGET_ESTIMATORS),
        default=next(iter(BUDGET_ESTIMATORS)),
        help="how many to flag without --ratio: blend = mean of the calibrated "
        "confident-joint count and the summed margin deficit; confident_learning = the "
        "calibrated count alone; margin_deficit = sum of max p - p(given label)",
    )
    p.add_argument(
        "--flag-by",
        choices=tuple(FLAG_RULES),
        help="which samples the budget m flags: global = the m highest scores; "
        "per_class_pair = m spread over the class pairs (given i, other j) as the confident "
        "joint spreads its off-diagonal, in each pair the largest margins p_j - p_i; "
        f"global_or_pair = either (m to 2m samples) (default: {DEFAULT_FLAG_BY} without "
        f"--ratio, {RATIO_FLAG_BY} with it)",
    )
    p.add_argument("--images", help="images of the samples, N x H x W (.npy), for flagged.png")


def run(args: argparse.Namespace, log: Log) -> dict:
    check_inputs(pred_probs=args.pred_probs, labels=args.labels, images=args.images)
    check_report_dir(args.report_dir, [args.pred_probs, args.labels, args.images])
    from mislabel.files.arrays import load_npy
    from mislabel.find import check_images, find_issues

    probs = load_npy(args.pred_probs, "--pred-probs file")
    labels = load_npy(args.labels, "--labels file")
    check_probs(labels, probs, what="--pred-probs")
    images = None if args.images is None else load_npy(args.images, "--images file")
    check_images(images, len(labels))
    issues = find_issues(
        probs,
        labels,
        detector=args.detector,
        ratio=args.ratio,
        budget_estimator=args.budget_estimator,
        flag_by=args.flag_by,
        report_dir=args.report_dir,
        images=images,
    )
    summary = issues.summary
    log(
        f"flagged {summary['flagged']} of {summary['n']} samples "
        f"(budget {summary['budget']}, {summary['budget_source']}; flagged by "
        f"{summary['flag_by']}); wrote {args.report_dir}"
    )
    return summary
