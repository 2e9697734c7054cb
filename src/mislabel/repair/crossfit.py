"""Out-of-fold predictions of a whole repair, when no holdout is given (cross-fitting).

A model's accuracy on its own training samples is biased upwards (it has fit them, wrong
labels included), and any holdout cut from the training data would be lost to the repair.
Instead the training samples are dealt into K stratified folds; for each fold k:

1. the original model *without* fold k is rebuilt (`FoldStart`): for a model file of
   `mislabel train`, by retraining it from scratch on the other folds with its own recipe
   (exact cross-validation); for an exported head, by one damped Newton step that removes
   fold k (`mislabel.repair.newton.remove_samples`, approximate cross-validation);
2. the repair's procedure (`mislabel.repair.procedure.detect_and_forget`) runs on the
   other folds from that model, exactly as it runs on the whole set;
3. both models predict fold k, which neither saw.

Every training sample then has a before and an after prediction from models that did not
train on it; `choose` picks the damping of a closed-form step by out-of-fold accuracy and
`mislabel.repair.judge` turns the chosen pairs into an interval. The estimate is of the
procedure applied to (K-1)/K of the data; a backbone that produced the features has still
seen every sample (only a holdout it never saw avoids that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from mislabel.detectors.confident_learning import fold_assignment
from mislabel.network.mlp import MLP, predict
from mislabel.network.train import TrainState, train
from mislabel.repair.procedure import Forgotten, Log, Plan, detect_and_forget
from mislabel.settings import TrainConfig


class FoldStart(NamedTuple):
    """The original model as if trained without one fold, and its training margins (aum)."""

    model: MLP
    state: TrainState
    margin_ExN: Any = None


class CrossFit(NamedTuple):
    """Out-of-fold correctness: before (N,) and after, one row per candidate (K_c x N)."""

    fold_N: np.ndarray
    right_before_N: np.ndarray
    right_after_OxN: np.ndarray
    flagged_per_fold: list[int]


def crossfit(
    plan: Plan,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    n_folds: int,
    fold_start: Callable[[np.ndarray], FoldStart],
    log: Log = print,
) -> CrossFit:
    """Run the repair on K folds (see the module docstring); `fold_start(keep_N)` rebuilds
    the original model from the kept samples."""
    x_NxD = np.asarray(x_NxD, np.float32)
    y_N = np.asarray(y_N, np.int32)
    fold_N = fold_assignment(y_N, n_folds, plan.seed)
    right_before = np.zeros(y_N.size, bool)
    right_after = None
    flagged = []
    for k in range(n_folds):
        keep_N = fold_N != k
        held = ~keep_N
        start = fold_start(keep_N)
        done = detect_and_forget(
            plan,
            start.model,
            start.state,
            x_NxD[keep_N],
            y_N[keep_N],
            margin_ExN=start.margin_ExN,
            cap=True,
            log=lambda _: None,
        )
        if right_after is None:
            right_after = np.zeros((len(done.options), y_N.size), bool)
        right_before[held] = _right(start.model, start.state.params, x_NxD[held], y_N[held])
        for o, option in enumerate(done.options):
            right_after[o, held] = _right(start.model, option.params, x_NxD[held], y_N[held])
        flagged.append(done.m)
        log(
            f"cross-fit fold {k + 1}/{n_folds}: flagged {done.m} of {int(keep_N.sum())}, "
            f"judged on {int(held.sum())}"
        )
    return CrossFit(fold_N, right_before, right_after, flagged)


def _right(model: MLP, params, x_NxD, y_N) -> np.ndarray:
    return np.asarray(predict(model, params, x_NxD)) == y_N


def choose(right_after_OxN: np.ndarray) -> int:
    """The candidate with the most right out-of-fold predictions; ties go to the later one
    (candidates come in increasing damping: the smaller step)."""
    totals = np.asarray(right_after_OxN).sum(axis=1)
    return int(np.flatnonzero(totals == totals.max())[-1])


def retrained_start(
    model: MLP, x_NxD: np.ndarray, y_N: np.ndarray, seed: int, recipe: TrainConfig, margins: bool
) -> Callable[[np.ndarray], FoldStart]:
    """`FoldStart`s of a model of `mislabel train`: retrained from scratch on the kept
    samples with its own seed and recipe (and its margins, when the detector needs them).
    Each fold is trained once, however often it is asked for (training is deterministic)."""
    done: dict[bytes, FoldStart] = {}

    def start(keep_N: np.ndarray) -> FoldStart:
        key = np.packbits(keep_N).tobytes()
        if key not in done:
            state, history = train(model, x_NxD[keep_N], y_N[keep_N], seed, recipe)
            margin_ExN = np.asarray(history.margin_ExN) if margins else None
            done[key] = FoldStart(model, state, margin_ExN)
        return done[key]

    return start


class Repaired(NamedTuple):
    """The procedure on the whole training set, the cross-fit (None when not needed) and
    the index of the chosen candidate."""

    done: Forgotten
    fit: CrossFit | None
    chosen: int


def repair_and_choose(
    plan: Plan,
    model: MLP,
    state: TrainState,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    *,
    fold_start: Callable[[np.ndarray], FoldStart],
    n_folds: int,
    have_holdout: bool,
    margin_ExN=None,
    log: Log = print,
) -> Repaired:
    """The repair on every training sample, and the cross-fit when there is no holdout to
    judge it or several candidates (dampings) to choose from."""
    done = detect_and_forget(plan, model, state, x_NxD, y_N, margin_ExN=margin_ExN, log=log)
    log(f"{plan.detector}: flagged {done.m} of {len(y_N)} training samples ({done.budget_source})")
    fit = None
    if not have_holdout or len(done.options) > 1:
        fit = crossfit(plan, x_NxD, y_N, n_folds, fold_start, log)
    chosen = choose(fit.right_after_OxN) if len(done.options) > 1 else 0
    return Repaired(done, fit, chosen)


def choice_summary(repaired: Repaired, plan: Plan, n_folds: int) -> dict:
    """The chosen candidate's facts: its damping, the grid and the step's relative size."""
    option = repaired.done.options[repaired.chosen]
    grid = len(repaired.done.options) > 1
    return {
        "damping": option.damping,
        "relative_damping": option.relative_damping,
        "damping_grid": [o.relative_damping for o in repaired.done.options] if grid else None,
        "damping_chosen_on": f"out-of-fold accuracy of the {n_folds}-fold cross-fit"
        if grid
        else None,
        "step_norm_relative": option.step_norm_relative,
    }


def crossfit_pairs(repaired: Repaired) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold correctness before and after, for the chosen candidate."""
    fit = repaired.fit
    return fit.right_before_N, fit.right_after_OxN[repaired.chosen]
