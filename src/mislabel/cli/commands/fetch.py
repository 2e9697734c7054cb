"""`mislabel fetch`: a built-in dataset, copied or downloaded, verified by SHA-256."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mislabel.cli.help_text import example
from mislabel.cli.inputs import check_writable_dir
from mislabel.cli.options import DATASETS

Log = Callable[[str], None]
SUMMARY = "download or copy a dataset, verified by SHA-256"
EPILOG = example(
    """
    example:
      mislabel fetch --dataset mnist --out-dir data
    """
)


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="mnist", help="which dataset")
    p.add_argument(
        "--out-dir", required=True, help="folder to write DATASET.npz into (also its cache)"
    )
    p.add_argument(
        "--source-dir",
        help="folder holding the four IDX files (raw or .gz) to use before any download "
        "(default: $MNIST_DIR / $FASHION_MNIST_DIR)",
    )


def run(args: argparse.Namespace, log: Log) -> dict:
    from mislabel.stages.data import fetch_dataset

    if args.source_dir is not None and not Path(args.source_dir).is_dir():
        raise FileNotFoundError(f"source folder {args.source_dir} does not exist")
    check_writable_dir(Path(args.out_dir))
    path = fetch_dataset(args.out_dir, dataset=args.dataset, source_dir=args.source_dir)
    with np.load(path, allow_pickle=False) as npz:
        n_train, n_test = npz["train_labels"].size, npz["test_labels"].size
    log(f"wrote {path}: {args.dataset}, {n_train} training and {n_test} test images (verified)")
    return {"dataset": args.dataset, "path": str(path), "n_train": n_train, "n_test": n_test}
