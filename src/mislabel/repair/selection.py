"""Which unlearner should a repair use by default, and with what NegGrad+ momentum?
Chosen on validation splits carved from the training data, never on a test split.

For one (ratio, seed) run of the workflow: a stratified fifth of the noisy training
samples (fold 0 of `VALIDATION_FOLDS`) is set aside; the model is trained with the run's
recipe on the rest; then every candidate repairs it exactly as `mislabel repair` would
(`mislabel.repair.crossfit.repair_and_choose`: the pipeline detector flags the top m, m =
the flips among those samples as the paper assumes, at most half of them; a closed-form
step picks its damping on a cross-fit of those samples), and the result is scored on the
validation samples against their true labels (known for planted noise: part of the
training data's record, not of the test split) and against the labels as given.
`selection_rows` never receives the test split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mislabel.data import to_float
from mislabel.detectors.confident_learning import fold_assignment
from mislabel.files.atomic import csv_text, write_text
from mislabel.files.dataset import load_dataset_file
from mislabel.network.mlp import make_model, predict
from mislabel.network.train import train
from mislabel.registry import DETECTORS
from mislabel.repair.crossfit import repair_and_choose, retrained_start
from mislabel.repair.procedure import Plan
from mislabel.settings import (
    CurvatureSettings,
    DetectionSettings,
    RepairSettings,
    TrainConfig,
    UnlearningSettings,
    from_mapping,
)
from mislabel.stages.common import PathLike

VALIDATION_FOLDS = 5  # one fold of five (20%) is the validation split
NEGGRAD_MOMENTA = (0.0, 0.9)  # none (SCRUB's code) or the training's
SELECTION_COLUMNS = (
    "dataset",
    "ratio",
    "seed",
    "unlearner",
    "neggrad_momentum",
    "n_fit",
    "n_validation",
    "m",
    "relative_damping",
    "validation_accuracy",
    "validation_accuracy_given",
)


def candidates(unlearners: Sequence[str]) -> list[tuple[str, float | None]]:
    """(unlearner, NegGrad+ momentum or None) for every candidate default."""
    out: list[tuple[str, float | None]] = []
    for name in unlearners:
        if name == "neggrad_plus":
            out += [(name, momentum) for momentum in NEGGRAD_MOMENTA]
        else:
            out.append((name, None))
    return out


def selection_rows(
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    y_clean_N: np.ndarray,
    n_classes: int,
    *,
    hidden: Sequence[int],
    seed: int,
    unlearners: Sequence[str],
    detector: str,
    training: TrainConfig,
    curvature: CurvatureSettings,
    detection: DetectionSettings,
    unlearning: UnlearningSettings,
) -> list[dict]:
    """Validation accuracy of every candidate, from one run's training data only."""
    fold_N = fold_assignment(y_N, VALIDATION_FOLDS, seed)
    fit, val = fold_N != 0, fold_N == 0
    x_fit, y_fit = x_NxD[fit], y_N[fit]
    model = make_model(hidden, n_classes)
    state, history = train(model, x_fit, y_fit, seed, training)
    # the flips among these samples, at most half of them (as a repair allows)
    m = min(int((y_N != y_clean_N)[fit].sum()), int(fit.sum()) // 2)
    margins = DETECTORS[detector].needs_margins
    start = retrained_start(model, x_fit, y_fit, seed, training, margins)
    rows = []
    for name, momentum in candidates(unlearners):
        settings = unlearning
        if momentum is not None:
            settings = unlearning._replace(neggrad_momentum=momentum)
        plan = Plan(
            detector,
            name,
            m / y_fit.size,  # round(n r) = m: the flips among these samples
            seed,
            training,
            curvature,
            detection,
            settings,
            tuple(sorted(RepairSettings().dampings)),
        )
        repaired = repair_and_choose(
            plan,
            model,
            state,
            x_fit,
            y_fit,
            fold_start=start,
            n_folds=RepairSettings().folds,
            have_holdout=True,  # the validation split: a cross-fit only to pick a damping
            margin_ExN=np.asarray(history.margin_ExN) if margins else None,
            log=lambda _: None,
        )
        option = repaired.done.options[repaired.chosen]
        predicted = np.asarray(predict(model, option.params, x_NxD[val]))
        rows.append(
            {
                "unlearner": name,
                "neggrad_momentum": float("nan") if momentum is None else momentum,
                "n_fit": int(fit.sum()),
                "n_validation": int(val.sum()),
                "m": repaired.done.m,
                "relative_damping": option.relative_damping,
                "validation_accuracy": float(np.mean(predicted == y_clean_N[val])),
                "validation_accuracy_given": float(np.mean(predicted == y_N[val])),
            }
        )
    return rows


def select_defaults(
    dataset_path: PathLike,
    out_csv: PathLike,
    *,
    hidden: Sequence[int],
    unlearners: Sequence[str],
    detector: str,
    training: Mapping | None = None,
    curvature: Mapping | None = None,
    detection: Mapping | None = None,
    unlearning: Mapping | None = None,
    log=print,
) -> list[dict]:
    """`selection_rows` of one run's dataset file (its training split); a CSV row per
    candidate."""
    ds = load_dataset_file(dataset_path)
    if ds.noise_mode == "unknown":
        raise ValueError(
            f"{dataset_path} does not know its true labels; the selection needs planted noise"
        )
    rows = selection_rows(
        to_float(ds.x_train),
        ds.y_train,
        ds.y_clean,
        ds.n_classes,
        hidden=hidden,
        seed=ds.seed,
        unlearners=unlearners,
        detector=detector,
        training=from_mapping(TrainConfig, training),
        curvature=from_mapping(CurvatureSettings, curvature),
        detection=from_mapping(DetectionSettings, detection),
        unlearning=from_mapping(UnlearningSettings, unlearning),
    )
    facts = {"dataset": ds.dataset, "ratio": ds.ratio, "seed": ds.seed}
    rows = [{**facts, **row} for row in rows]
    for row in rows:
        log(
            f"{row['unlearner']} (momentum {row['neggrad_momentum']}): validation accuracy "
            f"{row['validation_accuracy']:.4f} (given labels "
            f"{row['validation_accuracy_given']:.4f})"
        )
    write_text(out_csv, csv_text(rows, list(SELECTION_COLUMNS)))
    return rows
