"""Options shared by several commands, their defaults, and the settings they build.

Every default comes from its owner: the curvature, detection and unlearning settings
(`mislabel.settings`) and the paper's SGD settings (`PaperTraining`, the defaults of
`mislabel.train.TrainConfig` without importing JAX). Each option's `dest` is the name of
its settings field, so `settings_from` turns the parsed flags back into settings
(`tests/test_defaults_agree.py` checks both against config.yaml).
"""

from __future__ import annotations

import argparse
from typing import NamedTuple, TypeVar

from mislabel.cli.checks import (
    momentum_value,
    nonneg_float,
    nonneg_int,
    positive_float,
    positive_int,
)
from mislabel.data.verify import CANONICAL_SHA256
from mislabel.names import DETECTORS
from mislabel.settings import CurvatureSettings, DetectionSettings, UnlearningSettings

T = TypeVar("T", bound=tuple)


class PaperTraining(NamedTuple):
    """The paper's SGD settings: the defaults of `mislabel.train.TrainConfig`, repeated here
    so that building the parser does not import JAX (a test checks that they agree)."""

    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 20


DATASETS = tuple(sorted(CANONICAL_SHA256))
PAPER = PaperTraining()  # SGD, lr 0.01, momentum 0.9, batch 32, 20 epochs
PAPER_HIDDEN = (50, 50)


def settings_from(cls: type[T], args: argparse.Namespace) -> T:
    """The settings `cls` from the flags named after its fields."""
    return cls(*(getattr(args, field) for field in cls._fields))


def curvature_settings(args: argparse.Namespace) -> CurvatureSettings:
    """The curvature flags as settings (checked)."""
    settings = settings_from(CurvatureSettings, args)
    settings.check()
    return settings


def train_settings(args: argparse.Namespace) -> dict:
    """lr, momentum, batch size, epochs: the flags, else the model file's, else the paper's."""
    from mislabel.files.checkpoint import stored_training

    stored = stored_training(args.model)
    out = {}
    for key in PaperTraining._fields:
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
        "confident learning on cross-validated probabilities. aum and cleanlab also "
        "estimate how many samples are mislabeled",
    )
    defaults = DetectionSettings()
    p.add_argument("--history", help="training history from train (needed by --detector aum)")
    p.add_argument(
        "--aum-percentile",
        type=positive_float,
        default=defaults.aum_percentile,
        help="aum: cut-off at this percentile of the threshold samples' AUM",
    )
    p.add_argument(
        "--cv-folds",
        type=positive_int,
        default=defaults.cv_folds,
        help="cleanlab: cross-validation folds for out-of-sample probabilities",
    )


def add_curvature(p: argparse.ArgumentParser) -> None:
    """How H^-1 is applied (`CurvatureSettings`)."""
    g = p.add_argument_group(
        "curvature (influence detectors and updates; the _full names use every parameter)"
    )
    defaults = CurvatureSettings()
    g.add_argument(
        "--damping",
        type=nonneg_float,
        default=defaults.damping,
        help="last layer: 0 = pseudo-inverse of the Hessian (as the authors); > 0: solve "
        "(H + damping I)",
    )
    g.add_argument(
        "--rtol",
        type=positive_float,
        default=defaults.rtol,
        help="pseudo-inverse cut-off: eigenvalues below rtol * largest count as zero",
    )
    g.add_argument(
        "--full-damping",
        type=positive_float,
        default=defaults.full_damping,
        help="full network: solve (H + full_damping I)",
    )
    g.add_argument(
        "--lanczos-rank",
        type=positive_int,
        default=defaults.lanczos_rank,
        help="full-network influence scores: top-k eigenpairs of H",
    )
    g.add_argument(
        "--cg-tol",
        type=positive_float,
        default=defaults.cg_tol,
        help="full-network updates: conjugate gradients stop at ||r|| <= cg_tol ||b||",
    )
    g.add_argument(
        "--cg-maxiter",
        type=positive_int,
        default=defaults.cg_maxiter,
        help="full-network updates: at most this many conjugate-gradient iterations",
    )


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
    defaults = UnlearningSettings()
    g.add_argument(
        "--finetune-epochs",
        type=positive_int,
        default=defaults.finetune_epochs,
        help="epochs of fine-tuning on the remaining samples (the authors' code: 20)",
    )
    g.add_argument(
        "--neggrad-alpha",
        type=float,
        default=defaults.neggrad_alpha,
        help="neggrad_plus: minimise alpha L(retain) - (1 - alpha) L(forget)",
    )
    g.add_argument(
        "--neggrad-epochs",
        type=positive_int,
        default=defaults.neggrad_epochs,
        help="neggrad_plus: epochs over the retained samples",
    )
    g.add_argument(
        "--relabel-epochs",
        type=positive_int,
        default=defaults.relabel_epochs,
        help="relabel: fine-tuning epochs after correcting the flagged labels",
    )
    g.add_argument(
        "--seed",
        type=nonneg_int,
        help="seed of retraining / fine-tuning batch order (default: the model's own seed, "
        "so retraining starts from the same initial weights)",
    )
