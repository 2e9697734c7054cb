"""The commands that make dataset files: fetch, noise, pack.

Each checks its arguments and files, calls one library function and logs what it wrote;
the library is imported when the command runs, so `--help` stays light.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mislabel.cli.checks import CliError, check_inputs, check_outputs, check_writable_dir
from mislabel.cli.options import DATASETS

Log = Callable[[str], None]


def cmd_fetch(args: argparse.Namespace, log: Log) -> dict:
    from mislabel.stages.data import fetch_dataset

    if args.source_dir is not None and not Path(args.source_dir).is_dir():
        raise FileNotFoundError(f"source folder {args.source_dir} does not exist")
    check_writable_dir(Path(args.out_dir))
    path = fetch_dataset(args.out_dir, dataset=args.dataset, source_dir=args.source_dir)
    with np.load(path, allow_pickle=False) as npz:
        n_train, n_test = npz["train_labels"].size, npz["test_labels"].size
    log(f"wrote {path}: {args.dataset}, {n_train} training and {n_test} test images (verified)")
    return {"dataset": args.dataset, "path": str(path), "n_train": n_train, "n_test": n_test}


def cmd_noise(args: argparse.Namespace, log: Log) -> dict:
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


def cmd_pack(args: argparse.Namespace, log: Log) -> dict:
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
