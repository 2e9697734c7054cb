"""`mislabel score`: score every training sample with one detector and flag the top m."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mislabel.cli.help_text import example
from mislabel.cli.inputs import (
    RATIO_TEXT,
    check_history,
    check_inputs,
    check_outputs,
    ratio_value,
)
from mislabel.cli.options import (
    add_curvature,
    add_detector,
    settings_from,
)
from mislabel.settings import (
    CurvatureSettings,
    DetectionSettings,
)

Log = Callable[[str], None]
SUMMARY = "score every training sample and flag the top m"
EPILOG = example(
    """
    example:
      mislabel score --data run/noisy.npz --model run/model.msgpack --detector if_self \\
          --out run/scores.npz --info run/detection.json
    """
)
RENAMED = {"--rtol": "--pinv-rtol"}  # old option names, accepted until the next release


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset file the model was trained on")
    p.add_argument("--model", required=True, help="model file from train")
    add_detector(p)
    p.add_argument(
        "--ratio",
        type=ratio_value,
        help=f"flag the top m = round(n r) for this assumed noise ratio r {RATIO_TEXT} "
        "(default: m = the "
        "true number of flipped labels when the dataset file knows them, as the paper "
        "assumes, else round(n r) with the ratio recorded in the dataset file)",
    )
    add_curvature(p)
    p.add_argument("--out", required=True, help="scores and flags to write (.npz)")
    p.add_argument("--info", required=True, help="detection facts and metrics to write (.json)")


def run(args: argparse.Namespace, log: Log) -> dict:
    check_history(args.detector, args.history)
    check_inputs(dataset_file=args.data, model_file=args.model, history=args.history)
    check_outputs(args.out, args.info, inputs=[args.data, args.model])
    from mislabel.stages.score import score_samples

    row = score_samples(
        args.data,
        args.model,
        args.out,
        args.info,
        detector=args.detector,
        budget=None if args.ratio is None else "nominal",
        ratio=args.ratio,
        history_path=args.history,
        curvature=settings_from(CurvatureSettings, args),
        detection=settings_from(DetectionSettings, args),
        with_metrics=True,
        log=log,
    )
    if row["m"] == 0:
        log("note: the noise ratio gives m = 0, so nothing was flagged; pass --ratio")
    log(f"wrote {args.out} and {args.info}")
    return row
