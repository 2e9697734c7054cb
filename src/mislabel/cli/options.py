"""Options shared by several commands, their defaults, and the settings they build.

Every default comes from its owner, `mislabel.settings`: the curvature, detection and
unlearning settings, and the paper's SGD settings (`TrainConfig`). Each option's `dest` is
the name of its settings field, so `settings_from` turns the parsed flags back into
settings (`tests/test_defaults_agree.py` checks both against config.yaml).
"""

from __future__ import annotations

import argparse
from typing import TypeVar

from mislabel.catalog import BUILT_IN
from mislabel.cli.inputs import (
    momentum_value,
    nonneg_float,
    nonneg_int,
    positive_float,
    positive_int,
)
from mislabel.registry import DETECTORS
from mislabel.settings import (
    HEAD_CURVATURES,
    CurvatureSettings,
    DetectionSettings,
    RepairSettings,
    TrainConfig,
    UnlearningSettings,
    from_mapping,
)

T = TypeVar("T", bound=tuple)


DATASETS = BUILT_IN  # fetch and noise: the built-in datasets (own features: pack)
PAPER = TrainConfig()  # SGD, lr 0.01, momentum 0.9, batch 32, 20 epochs
PAPER_HIDDEN = (50, 50)
REPAIR = RepairSettings()  # the repair commands' defaults


def head_curvature(text: str) -> str:
    """One of `HEAD_CURVATURES` (an argparse type)."""
    if text not in HEAD_CURVATURES:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(HEAD_CURVATURES)}, not {text!r}")
    return text


# Each settings field as an option --field-name: (type, help). The default is the field's.
DETECTION_OPTIONS: dict[str, tuple] = {
    "aum_percentile": (
        positive_float,
        "aum: cut-off at this percentile of the threshold samples' AUM",
    ),
    "cv_folds": (
        positive_int,
        "cleanlab (confident learning): cross-validation folds for out-of-sample probabilities",
    ),
}
CURVATURE_OPTIONS: dict[str, tuple] = {
    "damping": (
        nonneg_float,
        "last layer: 0 = pseudo-inverse of the Hessian (as the authors); > 0: solve "
        "(H + damping I)",
    ),
    "pinv_rtol": (
        positive_float,
        "pseudo-inverse cut-off: eigenvalues below pinv_rtol * largest count as zero",
    ),
    "full_damping": (positive_float, "full network: solve (H + full_damping I)"),
    "lanczos_rank": (positive_int, "full-network influence scores: top-k eigenpairs of H"),
    "cg_tol": (
        positive_float,
        "full-network updates: conjugate gradients stop at ||r|| <= cg_tol ||b||",
    ),
    "cg_maxiter": (
        positive_int,
        "full-network updates: at most this many conjugate-gradient iterations",
    ),
    "head_curvature": (
        head_curvature,
        "a bare softmax head (repair-head): exact (dense Hessian), ekfac (Kronecker-factored, "
        "eigenvalue-corrected) or auto (exact while it fits the memory budget)",
    ),
    "memory_budget": (
        nonneg_float,
        "GiB the head's curvature may use; refused in one line before any work when it "
        "would not fit (0: half the memory available)",
    ),
}
UNLEARNING_OPTIONS: dict[str, tuple] = {
    "finetune_epochs": (
        positive_int,
        "epochs of fine-tuning on the remaining samples (the authors' code: 20)",
    ),
    "neggrad_alpha": (float, "neggrad_plus: minimise alpha L(retain) - (1 - alpha) L(forget)"),
    "neggrad_epochs": (positive_int, "neggrad_plus: epochs over the retained samples"),
    "neggrad_momentum": (
        momentum_value,
        "neggrad_plus: SGD momentum, started afresh (chosen on validation splits, "
        "paper_tables/table_ext_default_selection.md)",
    ),
    "relabel_epochs": (
        positive_int,
        "relabel: fine-tuning epochs after correcting the flagged labels",
    ),
}


def add_settings(group, cls: type[T], options: dict[str, tuple]) -> None:
    """One option per field of the settings `cls`, with the field's default."""
    if set(options) != set(cls._fields):
        raise ValueError(f"options {sorted(options)} do not match {cls.__name__}'s fields")
    defaults = cls()
    for field in cls._fields:
        kind, text = options[field]
        flag = "--" + field.replace("_", "-")
        group.add_argument(flag, type=kind, default=getattr(defaults, field), help=text)


def settings_from(cls: type[T], args: argparse.Namespace) -> T:
    """The settings `cls` from the flags named after its fields (checked by its `check`)."""
    return from_mapping(cls, {field: getattr(args, field) for field in cls._fields})


def train_settings(args: argparse.Namespace) -> dict:
    """lr, momentum, batch size, epochs: the flags, else the model file's, else the paper's."""
    from mislabel.files.checkpoint import stored_training

    stored = stored_training(args.model)
    out = {}
    for key in TrainConfig._fields:
        value = getattr(args, key)
        out[key] = value if value is not None else stored.get(key, getattr(PAPER, key))
    return out


def add_detector(p: argparse.ArgumentParser) -> None:
    """--detector and the settings of aum and cleanlab."""
    p.add_argument(
        "--detector",
        choices=DETECTORS,
        default="loss",
        help="anomaly score: loss = cross-entropy of the given label; if_self, if_train, "
        "if_train_minus_z = influence with z_test = z, D, D minus z (suffix _full: Hessian "
        "over all parameters); aum = area under the margin (needs --history); cleanlab = "
        "confident learning (the package's own implementation) on cross-validated "
        "probabilities. aum and cleanlab also "
        "estimate how many samples are mislabeled",
    )
    p.add_argument("--history", help="training history from train (needed by --detector aum)")
    add_settings(p, DetectionSettings, DETECTION_OPTIONS)


def add_curvature(p: argparse.ArgumentParser) -> None:
    """How H^-1 is applied (`CurvatureSettings`)."""
    g = p.add_argument_group(
        "curvature (influence detectors and updates; the _full names use every parameter)"
    )
    add_settings(g, CurvatureSettings, CURVATURE_OPTIONS)


def add_unlearning(p: argparse.ArgumentParser) -> None:
    """SGD settings and epochs of the training-based unlearners (`UnlearningSettings`)."""
    g = p.add_argument_group(
        "training (finetune and retrain; default: the model file's settings, else the paper's)"
    )
    g.add_argument("--lr", type=positive_float, help=f"SGD learning rate (paper: {PAPER.lr})")
    g.add_argument(
        "--momentum",
        type=momentum_value,
        help=f"SGD momentum (paper: {PAPER.momentum}); 0 only for models trained without it",
    )
    g.add_argument(
        "--batch-size", type=positive_int, help=f"mini-batch size (paper: {PAPER.batch_size})"
    )
    g.add_argument(
        "--epochs", type=positive_int, help=f"epochs of retraining (paper: {PAPER.epochs})"
    )
    add_settings(g, UnlearningSettings, UNLEARNING_OPTIONS)
    g.add_argument(
        "--seed",
        type=nonneg_int,
        help="seed of retraining / fine-tuning batch order (default: the model's own seed, "
        "so retraining starts from the same initial weights)",
    )


SELECTION_TABLE = "paper_tables/table_ext_default_selection.md"  # cited by --help


def unlearner_help(what: str) -> str:
    return (
        f"how to forget the flagged samples{what}; the default has the best mean accuracy "
        f"on validation splits carved from the training data, {SELECTION_TABLE}"
    )


def add_judge_options(p: argparse.ArgumentParser, holdout: str) -> None:
    """--margin, --folds, --allow-worse, --report-dir and --image-shape (repair and
    repair-head); `holdout` says what judges a repair when one is at hand."""
    g = p.add_argument_group(
        "judging the repair (a repair is written only if it is shown not to be worse)"
    )
    g.add_argument(
        "--margin",
        type=nonneg_float,
        default=REPAIR.margin,
        help="non-inferiority margin in accuracy points: the repaired model is written "
        f"only if the {round(100 * REPAIR.confidence)}%% interval of its change in "
        "accuracy lies above -margin",
    )
    g.add_argument(
        "--folds",
        type=positive_int,
        default=REPAIR.folds,
        help=f"without {holdout}: the repair is judged on out-of-fold predictions of a K-fold "
        "cross-fit of the whole repair over the training samples (the closed-form steps "
        "also choose their damping there)",
    )
    g.add_argument(
        "--allow-worse",
        action="store_true",
        help="write the repaired model even if it is not shown to be no worse; otherwise "
        "exit with status 2 and write nothing",
    )
    g.add_argument(
        "--report-dir",
        help="a folder of its own for flagged.csv (every sample by score), summary.json and "
        "flagged.png",
    )
    g.add_argument(
        "--image-shape",
        nargs=2,
        type=positive_int,
        metavar=("H", "W"),
        help="the samples are H x W images: draw the top flagged ones in flagged.png "
        "(known for MNIST and Fashion-MNIST)",
    )
