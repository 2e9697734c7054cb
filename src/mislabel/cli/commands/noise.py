"""`mislabel noise`: select classes of a fetched dataset and inject label noise."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from mislabel.cli.help_text import example
from mislabel.cli.inputs import (
    RATIO_TEXT,
    CliError,
    check_inputs,
    check_outputs,
    nonneg_int,
    positive_int,
    ratio_value,
)
from mislabel.cli.options import DATASETS
from mislabel.data.subset import SUBSET_MODES
from mislabel.noise import NOISE_MODES, NOISE_POSITIONS

Log = Callable[[str], None]
SUMMARY = "select classes and inject label noise into a fetched dataset"
EPILOG = example(
    """
    example:
      mislabel noise --raw data/mnist.npz --classes 0 1 --ratio 0.1 --noise-mode exact \\
          --out run/noisy.npz
    """
)


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--raw", required=True, help="fetched dataset file (DATASET.npz)")
    p.add_argument(
        "--dataset", choices=DATASETS, help="dataset of --raw (default: from its file name)"
    )
    p.add_argument(
        "--classes",
        type=nonneg_int,
        nargs="+",
        default=[0, 1],
        help="original class ids to keep; class k of this list becomes label k",
    )
    p.add_argument(
        "--train-per-class", type=positive_int, default=1000, help="training images per class"
    )
    p.add_argument(
        "--subset",
        choices=SUBSET_MODES,
        default="first",
        help="first: the first images of each class (as the authors); random: drawn by --seed",
    )
    p.add_argument(
        "--noise-mode",
        choices=NOISE_MODES,
        default="symmetric",
        help="symmetric: each label flipped with probability r; exact: round(r n_c) per class",
    )
    p.add_argument(
        "--noise-positions",
        choices=NOISE_POSITIONS,
        default="random",
        help="with --noise-mode exact: random positions, or the first ones of each class "
        "(as the authors' code)",
    )
    p.add_argument(
        "--test-per-class",
        type=positive_int,
        default=None,
        help="keep at most the first this many test images of each class (default: all)",
    )
    p.add_argument("--ratio", type=ratio_value, required=True, help=f"noise ratio r {RATIO_TEXT}")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the noise (and subset)")
    p.add_argument("--out", required=True, help="noisy dataset file to write (.npz)")


def run(args: argparse.Namespace, log: Log) -> dict:
    from mislabel.stages.data import make_noisy_dataset

    if args.noise_positions == "first" and args.noise_mode != "exact":
        raise CliError("--noise-positions first needs --noise-mode exact (a fixed count per class)")
    check_inputs(raw_dataset_file=args.raw)
    check_outputs(args.out, inputs=[args.raw])
    dataset = args.dataset or Path(args.raw).stem
    if dataset not in DATASETS:
        raise CliError(
            f"cannot tell the dataset from the file name {Path(args.raw).name}; "
            f"pass --dataset ({', '.join(DATASETS)})"
        )
    result = make_noisy_dataset(
        args.raw,
        args.out,
        dataset=dataset,
        classes=args.classes,
        train_per_class=args.train_per_class,
        subset=args.subset,
        noise_mode=args.noise_mode,
        ratio=args.ratio,
        seed=args.seed,
        noise_positions=args.noise_positions,
        test_per_class=args.test_per_class,
    )
    log(
        f"wrote {args.out}: {result['n_train']} training samples of classes {args.classes}, "
        f"{result['n_flipped']} labels flipped ({args.noise_mode}, r={args.ratio}), "
        f"{result['n_test']} test samples"
    )
    return {"path": str(args.out), **result}
