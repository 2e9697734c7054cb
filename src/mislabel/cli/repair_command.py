"""`mislabel repair`: flag the likely mislabeled samples and unlearn them, in one step
(`mislabel.repair.repair_model`), then tell people what it flagged and what it changed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from mislabel.cli.checks import (
    CliError,
    check_history,
    check_inputs,
    check_outputs,
    check_writable_dir,
)
from mislabel.cli.options import curvature_settings, settings_from, train_settings
from mislabel.names import ESTIMATING_DETECTORS
from mislabel.settings import DetectionSettings, UnlearningSettings

Log = Callable[[str], None]


def cmd_repair(args: argparse.Namespace, log: Log) -> dict:
    if args.ratio is None and args.detector not in ESTIMATING_DETECTORS:
        raise CliError(
            f"without --ratio the detector must estimate the number of mislabeled samples "
            f"itself: pass --detector {' or '.join(ESTIMATING_DETECTORS)}, or give --ratio"
        )
    check_history(args.detector, args.history)
    check_inputs(dataset_file=args.data, model_file=args.model)
    check_outputs(args.out, args.scores_out, args.info_out, inputs=[args.data, args.model])
    if args.report_dir is not None:
        check_writable_dir(Path(args.report_dir))
    from mislabel.repair import repair_model  # after the checks: it imports JAX

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
        curvature=curvature_settings(args),
        detection=settings_from(DetectionSettings, args),
        training=train_settings(args),
        unlearning=settings_from(UnlearningSettings, args),
        seed=args.seed,
        report_dir=args.report_dir,
        image_shape=args.image_shape,
        allow_worse=args.allow_worse,
        holdout_fraction=args.holdout_fraction,
        log=log,
    )
    if not args.json:
        print(repair_summary(result, args.scores_out), flush=True)
    return result


def repair_summary(result: dict, scores_out: str | None, show: int = 20) -> str:
    """What `repair` flagged and what it did to the holdout's accuracy, for people."""
    idx = result["flagged_indices"]
    listed = " ".join(map(str, idx[:show]))
    if len(idx) > show:
        where = f"; all in {scores_out}" if scores_out else "; --json or --scores-out lists all"
        listed += f" ... ({len(idx) - show} more{where})"
    per_class = ", ".join(f"{c}: {k}" for c, k in result["flagged_per_given_class"].items())
    lines = [
        f"flagged {result['m']} of {result['n']} training samples as mislabeled "
        f"(top round(n*r) by {result['detector']} score, r={result['ratio']})",
        f"  indices: {listed or '(none)'}",
        f"  flagged per given label: {per_class}",
    ]
    balanced = (
        f" (balanced: {result['balanced_accuracy_before']:.4f} -> "
        f"{result['balanced_accuracy_after']:.4f})"
        if "balanced_accuracy_before" in result
        else ""
    )
    lines.append(
        f"accuracy on the {result['holdout']}: {result['holdout_accuracy_before']:.4f} "
        f"before, {result['holdout_accuracy_after']:.4f} after {result['method']}{balanced}"
    )
    lines.append(f"wrote {result['model']}")
    return "\n".join(lines)
