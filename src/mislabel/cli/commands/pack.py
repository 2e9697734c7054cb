"""`mislabel pack`: a dataset file from your own `.npy` arrays."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mislabel.cli.help_text import example
from mislabel.cli.inputs import (
    RATIO_TEXT,
    CliError,
    check_outputs,
    nonneg_int,
    ratio_value,
)

Log = Callable[[str], None]
SUMMARY = "build a dataset file from your own .npy arrays"
EPILOG = example(
    """
    example:
      mislabel pack --x-train x.npy --y-train y.npy --x-test xt.npy --y-test yt.npy \\
          --classes 3 8 --out mine.npz
    x files: (n, D) or (n, H, W) arrays of uint8 pixels (kept as uint8), or float
    features of any finite range (stored as float32, unchanged); y files: (n,) integer
    class indices 0..C-1.
    """
)


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--x-train", required=True, help="training images .npy, (n, D) or (n, H, W)")
    p.add_argument("--y-train", required=True, help="training labels .npy (n,), 0..C-1")
    p.add_argument("--x-test", help="test images .npy (optional; needed for test accuracy)")
    p.add_argument("--y-test", help="test labels .npy (with --x-test)")
    p.add_argument(
        "--y-clean",
        help="true training labels .npy, if known (default: unknown, taken as y_train)",
    )
    p.add_argument(
        "--classes",
        type=nonneg_int,
        nargs="+",
        help="original class id of each label 0..C-1 (default: 0..max label)",
    )
    p.add_argument(
        "--ratio",
        type=ratio_value,
        default=0.0,
        help=f"noise ratio {RATIO_TEXT} to record (later the default --ratio of score)",
    )
    p.add_argument("--name", default="custom", help="dataset name to record")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed to record")
    p.add_argument("--out", required=True, help="dataset file to write (.npz)")


def run(args: argparse.Namespace, log: Log) -> dict:
    from mislabel.pack import pack_files

    if (args.x_test is None) != (args.y_test is None):
        raise CliError("give both --x-test and --y-test, or neither")
    inputs = [args.x_train, args.y_train, args.x_test, args.y_test, args.y_clean]
    check_outputs(args.out, inputs=inputs)
    result = pack_files(
        args.out,
        args.x_train,
        args.y_train,
        x_test=args.x_test,
        y_test=args.y_test,
        y_clean=args.y_clean,
        classes=args.classes,
        name=args.name,
        ratio=args.ratio,
        seed=args.seed,
    )
    log(
        f"wrote {args.out}: {result['n_train']} training samples of {result['n_features']} "
        f"features, {result['n_classes']} classes, {result['n_test']} test samples, "
        f"{result['n_flipped']} known label errors"
    )
    return result
