"""The `mislabel` argument parser: one builder per command, one table of commands.

Building it imports no JAX: defaults come from `mislabel.settings` and
`mislabel.cli.options`, names from `mislabel.registry`, and each command's handler imports
what it needs when it runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mislabel import __version__
from mislabel.cli.checks import (
    RATIO_TEXT,
    momentum_value,
    nonneg_int,
    positive_float,
    positive_int,
    ratio_value,
)
from mislabel.cli.data_commands import cmd_fetch, cmd_noise, cmd_pack
from mislabel.cli.head_command import (
    add_judge_options,
    add_repair_head,
    cmd_repair_head,
    unlearner_help,
)
from mislabel.cli.help_text import (
    DESCRIPTION,
    EPILOG,
    SUBCOMMAND_EPILOGS,
    HelpFormatter,
    renamed_note,
)
from mislabel.cli.model_commands import cmd_evaluate, cmd_score, cmd_train, cmd_unlearn
from mislabel.cli.options import (
    DATASETS,
    PAPER,
    PAPER_HIDDEN,
    add_curvature,
    add_detector,
    add_unlearning,
)
from mislabel.cli.renamed import RENAMED, Parser
from mislabel.cli.repair_command import cmd_repair
from mislabel.data.subset import SUBSET_MODES
from mislabel.noise import NOISE_MODES, NOISE_POSITIONS
from mislabel.registry import TARGETS, UNLEARNERS
from mislabel.settings import RepairSettings


def add_fetch(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="mnist", help="which dataset")
    p.add_argument(
        "--out-dir", required=True, help="folder to write DATASET.npz into (also its cache)"
    )
    p.add_argument(
        "--source-dir",
        help="folder holding the four IDX files (raw or .gz) to use before any download "
        "(default: $MNIST_DIR / $FASHION_MNIST_DIR)",
    )


def add_noise(p: argparse.ArgumentParser) -> None:
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


def add_pack(p: argparse.ArgumentParser) -> None:
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


def add_train(p: argparse.ArgumentParser) -> None:
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


def add_score(p: argparse.ArgumentParser) -> None:
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


def add_unlearn(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset file the model was trained on")
    p.add_argument("--model", required=True, help="model file from train")
    p.add_argument(
        "--unlearner",
        choices=UNLEARNERS,
        required=True,
        help="influence: Koh & Liang step; ssse: Newton step on the rest; finetune: keep "
        "training on the rest; retrain: train afresh on the rest",
    )
    p.add_argument(
        "--target",
        choices=TARGETS,
        required=True,
        help="forget the truly mislabeled samples (known for noise datasets), the ones "
        "flagged in --scores (detected), or the top m-hat of --scores with m-hat estimated "
        "by an aum/cleanlab score file (detected_estimated)",
    )
    p.add_argument("--scores", help="score file from score (needed for the detected targets)")
    p.add_argument(
        "--budget",
        help="detected_estimated: score file of aum or cleanlab whose estimate m-hat sets "
        "the budget (default: --scores itself)",
    )
    add_curvature(p)
    add_unlearning(p)
    p.add_argument("--out", required=True, help="unlearned model file to write (.msgpack)")
    p.add_argument("--info", required=True, help="unlearning info to write (.json)")


def add_evaluate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset file with a test split")
    p.add_argument("--pretrained", required=True, help="model file from train")
    p.add_argument(
        "--unlearned",
        nargs=2,
        metavar=("MODEL", "INFO"),
        action="append",
        default=[],
        help="an unlearned model and its info file from unlearn (repeatable)",
    )
    p.add_argument("--out", required=True, help="CSV to write, one row per model")


def add_repair(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset file the model was trained on")
    p.add_argument("--model", required=True, help="model file to repair (from train)")
    p.add_argument(
        "--ratio",
        type=ratio_value,
        help=f"estimated noise ratio r {RATIO_TEXT}, e.g. from auditing a sample of labels: "
        "flag round(n r); without it the budget is estimated (by the detector if it can, "
        "else by cleanlab)",
    )
    add_detector(p)
    p.add_argument(
        "--unlearner",
        choices=UNLEARNERS,
        default=RepairSettings().unlearner,
        help=unlearner_help(""),
    )
    add_curvature(p)
    add_unlearning(p)
    p.add_argument(
        "--out",
        required=True,
        help="repaired model file to write (.msgpack), written only if the repair is "
        "shown not to be worse",
    )
    p.add_argument("--scores-out", help="also write the scores and flags (.npz)")
    p.add_argument("--info-out", help="also write the repair's summary (.json)")
    add_judge_options(p, "a test split in the dataset file")


Builder = Callable[[argparse.ArgumentParser], None]
Handler = Callable[..., object]

# name: (one-line summary, options, handler), in pipeline order
COMMANDS: dict[str, tuple[str, Builder, Handler]] = {
    "fetch": ("download or copy a dataset, verified by SHA-256", add_fetch, cmd_fetch),
    "noise": (
        "select classes and inject label noise into a fetched dataset",
        add_noise,
        cmd_noise,
    ),
    "pack": ("build a dataset file from your own .npy arrays", add_pack, cmd_pack),
    "train": ("train the MLP on a dataset file (SGD with momentum)", add_train, cmd_train),
    "score": ("score every training sample and flag the top m", add_score, cmd_score),
    "unlearn": (
        "forget a set of training samples from a trained model",
        add_unlearn,
        cmd_unlearn,
    ),
    "evaluate": (
        "test accuracy of the pre-trained and unlearned models",
        add_evaluate,
        cmd_evaluate,
    ),
    "repair": (
        "flag the likely mislabeled samples and unlearn them, in one step",
        add_repair,
        cmd_repair,
    ),
    "repair-head": (
        "repair any classifier through its last layer, judged on a holdout",
        add_repair_head,
        cmd_repair_head,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The `mislabel` argument parser with one subparser per stage."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", help="print the command's result as JSON on stdout"
    )
    common.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")

    parser = Parser(
        prog="mislabel",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (summary, add_options, handler) in COMMANDS.items():
        renamed = RENAMED.get(name, {})
        epilog = SUBCOMMAND_EPILOGS[name]
        p = sub.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=f"{epilog}\n\n{renamed_note(renamed)}" if renamed else epilog,
            formatter_class=HelpFormatter,
            parents=[common],
            renamed=renamed,
        )
        add_options(p)
        p.set_defaults(handler=handler)
    return parser
