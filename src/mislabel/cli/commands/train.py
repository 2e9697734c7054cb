"""`mislabel train`: train the MLP on a dataset file."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mislabel.cli.help_text import example
from mislabel.cli.inputs import (
    check_inputs,
    check_outputs,
    momentum_value,
    nonneg_int,
    positive_float,
    positive_int,
)
from mislabel.cli.options import (
    PAPER,
    PAPER_HIDDEN,
    settings_from,
)
from mislabel.settings import TrainConfig

Log = Callable[[str], None]
SUMMARY = "train the MLP on a dataset file (SGD with momentum)"
EPILOG = example(
    """
    example:
      mislabel train --data run/noisy.npz --hidden 50 50 --epochs 20 \\
          --out run/model.msgpack --history run/history.npz
    """
)


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset file from noise or pack")
    p.add_argument(
        "--hidden",
        type=positive_int,
        nargs="*",
        default=list(PAPER_HIDDEN),
        help="hidden layer widths (the paper's text: 50 50; the authors' code: 50; none: a "
        "linear model)",
    )
    p.add_argument("--lr", type=positive_float, default=PAPER.lr, help="SGD learning rate")
    p.add_argument("--momentum", type=momentum_value, default=PAPER.momentum, help="momentum")
    p.add_argument(
        "--batch-size", type=positive_int, default=PAPER.batch_size, help="mini-batch size"
    )
    p.add_argument("--epochs", type=positive_int, default=PAPER.epochs, help="epochs")
    p.add_argument(
        "--seed", type=nonneg_int, default=0, help="seed of the initial weights and batch order"
    )
    p.add_argument("--out", required=True, help="model file to write (.msgpack)")
    p.add_argument("--history", required=True, help="per-epoch history to write (.npz)")


def run(args: argparse.Namespace, log: Log) -> dict:
    check_inputs(dataset_file=args.data)
    check_outputs(args.out, args.history, inputs=[args.data])
    from mislabel.stages.train import train_model

    result = train_model(
        args.data,
        args.out,
        args.history,
        hidden=args.hidden,
        training=settings_from(TrainConfig, args),
        seed=args.seed,
        log=log,
    )
    log(f"wrote {args.out} and {args.history} ({result['seconds']:.2f} s)")
    return {"model": str(args.out), "history": str(args.history), **result}
