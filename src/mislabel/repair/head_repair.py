"""Repair a classifier from any framework through its last layer, and never silently worse.

`repair_head` takes what any classifier can export (the penultimate features of its
training samples, their given labels, and its last linear layer W, b; see
`mislabel.repair.head`) and

1. scores every training sample with a detector and flags the top m (``round(n r)`` for a
   given ratio r, else an estimate), then forgets them with an unlearner
   (`mislabel.repair.procedure`); the closed-form steps update W and b and come once per
   damping of a small grid;
2. judges the repair on data that neither model trained on: the holdout, when given (the
   recommended way); else out-of-fold predictions of a K-fold cross-fit of the whole
   procedure (`mislabel.repair.crossfit`), so that every sample is scored and forgotten
   when flagged. A closed-form step's damping is the grid value with the most right
   out-of-fold predictions;
3. keeps the repair only when it is shown not to be worse: the 95% interval of the paired
   change in accuracy must lie above ``-margin`` (`mislabel.repair.judge`); otherwise
   `RepairRefused` (unless ``allow_worse``).

Accuracy is measured against the labels as given, which may be wrong too; the summary
names the labels that judged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from mislabel.checks import MemoryBudgetError, check_ratio
from mislabel.curvature import softmax_head as head_maths
from mislabel.curvature.head import default_budget, gib, need_bytes
from mislabel.network.mlp import make_model, predict
from mislabel.network.train import TrainState, make_optimizer
from mislabel.registry import HEAD_DETECTORS, HEAD_UNLEARNERS
from mislabel.repair import newton
from mislabel.repair.crossfit import (
    FoldStart,
    choice_summary,
    crossfit_pairs,
    repair_and_choose,
)
from mislabel.repair.head import check_features, check_head, check_labels, training_min_classes
from mislabel.repair.judge import crossfit_source, describe, judge, refusal
from mislabel.repair.procedure import Plan, RepairRefused, is_grid_search
from mislabel.settings import (
    CurvatureSettings,
    DetectionSettings,
    RepairSettings,
    TrainConfig,
    UnlearningSettings,
)

DEFAULTS = RepairSettings()


class HeadRepair(NamedTuple):
    """The outcome: flags and scores of every training sample, the repaired W and b, the
    repaired model's predicted class of every training sample, and the summary."""

    flagged_N: np.ndarray
    scores_N: np.ndarray
    W: np.ndarray
    b: np.ndarray
    predicted_N: np.ndarray
    summary: dict


def head_model(W_DxC, b_C):
    """The head as this project's model: an `MLP` without hidden layers, and its params."""
    W, b = np.asarray(W_DxC, np.float32), np.asarray(b_C, np.float32)
    return make_model((), W.shape[1]), {"params": {"head": {"kernel": W, "bias": b}}}


def check_repair_names(detector: str, unlearner: str) -> None:
    """Refuse a detector or unlearner that cannot run on an exported head."""
    if detector not in HEAD_DETECTORS:
        raise ValueError(
            f"detector {detector!r} cannot score an exported head; use one of "
            f"{', '.join(HEAD_DETECTORS)} (aum needs the training margins of every epoch)"
        )
    if unlearner not in HEAD_UNLEARNERS:
        raise ValueError(
            f"unlearner {unlearner!r} cannot repair an exported head; use one of "
            f"{', '.join(HEAD_UNLEARNERS)} (on a head, influence and ssse already update "
            "W and b)"
        )


def check_folds(folds: int, y_N: np.ndarray) -> None:
    """A cross-fit needs at least 2 folds and as many samples as folds in each class."""
    if int(folds) != folds or folds < 2:
        raise ValueError(f"folds must be an integer >= 2, got {folds}")
    if y_N.size < 2 * folds:
        raise ValueError(
            f"{y_N.size} training samples are too few to cross-fit {folds} folds; give a "
            "holdout (holdout features and labels) or fewer folds"
        )


def check_memory(
    n: int, n_features: int, n_classes: int, have_holdout: bool, unlearner: str, curvature
) -> None:
    """Refuse, before any work, a repair whose Newton steps will not fit the memory budget
    (`CurvatureSettings.memory_budget`). Removing each cross-fit fold and the closed-form
    steps use the head's dense Hessian while it fits, else conjugate gradients, which hold
    a few float64 copies of the features; a holdout with a training-based unlearner needs
    neither."""
    if have_holdout and not is_grid_search(unlearner):
        return
    p = (n_features + 1) * n_classes
    budget = curvature.budget_bytes() or default_budget()
    if newton.dense_fits(p, budget):
        return
    need = 3 * 8 * n * (n_features + 1) + need_bytes(n, n_features + 1, n_classes, "ekfac")
    if need > budget:
        why = f"the {unlearner} step" if have_holdout else "removing each cross-fit fold"
        fix = "" if have_holdout else "give a holdout (--holdout-features, --holdout-labels) and "
        raise MemoryBudgetError(
            f"{why} on a head with P = {p:,} parameters and N = {n:,} samples needs about "
            f"{gib(need)} (conjugate gradients), more than the memory budget of {gib(budget)}: "
            f"{fix}choose a training-based unlearner (neggrad_plus, finetune, relabel), or a "
            f"--memory-budget of at least {gib(need)}"
        )


def repair_head(
    features_NxD: Any,
    labels_N: Any,
    W_DxC: Any,
    b_C: Any,
    *,
    holdout_features: Any = None,
    holdout_labels: Any = None,
    detector: str = DEFAULTS.detector,
    unlearner: str = DEFAULTS.unlearner,
    ratio: float | None = None,
    margin: float = DEFAULTS.margin,
    allow_worse: bool = False,
    folds: int = DEFAULTS.folds,
    seed: int = 0,
    train_config: TrainConfig | None = None,
    curvature: CurvatureSettings | None = None,
    detection: DetectionSettings | None = None,
    unlearning: UnlearningSettings | None = None,
    dampings: tuple[float, ...] = DEFAULTS.dampings,
    log: Callable[[str], None] = print,
) -> HeadRepair:
    """Flag the likely mislabeled training samples of a linear head, unlearn them, and
    keep the result only if it is shown not to be worse (see the module docstring).

    Args:
      margin: the non-inferiority margin, in accuracy points.
    Raises:
      RepairRefused: more than half the samples flagged, or the change in accuracy's
        interval reaches below -margin (and not `allow_worse`); its `repair` holds the
        outcome.
      HeadError / ValueError: inputs that do not fit, named with the fix.
    """
    x = check_features(features_NxD)
    W, b = check_head(W_DxC, b_C, x.shape[1])
    n_classes = W.shape[1]
    y = check_labels(labels_N, x.shape[0], n_classes, min_classes=training_min_classes(n_classes))
    check_repair_names(detector, unlearner)
    check_ratio(ratio)
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0 accuracy points, got {margin}")
    if (holdout_features is None) != (holdout_labels is None):
        raise ValueError("give both holdout features and holdout labels, or neither")
    holdout = None
    if holdout_features is not None:
        x_hold = check_features(holdout_features, "holdout features")
        if x_hold.shape[1] != x.shape[1]:
            raise ValueError(
                f"holdout features have {x_hold.shape[1]} columns, training features {x.shape[1]}"
            )
        holdout = (
            x_hold,
            check_labels(holdout_labels, x_hold.shape[0], n_classes, "holdout labels"),
        )
    if holdout is None or is_grid_search(unlearner):
        check_folds(folds, y)
    curvature = curvature or CurvatureSettings()
    check_memory(y.size, x.shape[1], n_classes, holdout is not None, unlearner, curvature)
    config = train_config or TrainConfig()
    plan = Plan(
        detector,
        unlearner,
        ratio,
        int(seed),
        config,
        curvature,
        detection or DetectionSettings(),
        unlearning or UnlearningSettings(),
        tuple(sorted(dampings)),
    )
    model, params = head_model(W, b)
    state = TrainState(params, make_optimizer(config).init(params))
    removal = _removal(W, b, x, y)
    repaired = repair_and_choose(
        plan,
        model,
        state,
        x,
        y,
        fold_start=_removed_start(
            model, config, W, b, x, y, removal["removal_damping"], curvature.budget_bytes()
        ),
        n_folds=folds,
        have_holdout=holdout is not None,
        log=log,
    )
    done, fit = repaired.done, repaired.fit
    option = done.options[repaired.chosen]
    summary = {
        "n_train": int(y.size),
        "n_flagged": done.m,
        "budget": done.m,
        "budget_source": done.budget_source,
        "ratio": ratio if ratio is not None else done.m / y.size,
        "detector": detector,
        "unlearner": unlearner,
    }
    if fit is not None:
        summary |= {"crossfit_folds": int(folds), **removal}
    if holdout is not None:
        x_hold, y_hold = holdout
        pairs = (
            np.asarray(predict(model, params, x_hold)) == y_hold,
            np.asarray(predict(model, option.params, x_hold)) == y_hold,
        )
        judged_on = f"the given holdout ({y_hold.size} samples), its labels as given"
    else:
        pairs = crossfit_pairs(repaired)
        judged_on = crossfit_source(folds, y.size, "each fold removed by a damped Newton step")
    verdict = judge(
        *pairs, margin_points=margin, judged_on=judged_on, confidence=DEFAULTS.confidence
    )
    log(f"judged on {judged_on}: {describe(verdict.change)}")
    summary |= choice_summary(repaired, plan, folds) | verdict.fields
    summary |= {"allow_worse": bool(allow_worse), "refused": not verdict.ok and not allow_worse}
    W_new, b_new = head_maths.unstack(head_maths.stack(*_kernel_bias(option.params)))
    predicted = np.asarray(predict(model, option.params, x))
    repair = HeadRepair(done.flagged_N, done.scores_N, W_new, b_new, predicted, summary)
    if summary["refused"]:
        raise RepairRefused(refusal(verdict, margin, "Nothing was written."), repair)
    return repair


def _kernel_bias(params) -> tuple[np.ndarray, np.ndarray]:
    layer = params["params"]["head"]
    return np.asarray(layer["kernel"]), np.asarray(layer["bias"])


def _removal(W, b, x, y) -> dict:
    """The damping of the step that removes a fold from the head: its implied ridge, at
    least `RepairSettings.removal_damping` relative to the Hessian's mean eigenvalue."""
    Wb = head_maths.stack(W, b)
    ridge, residual = newton.implied_ridge(Wb, x, y)
    scale = head_maths.mean_eigenvalue(Wb, x, np.full(y.size, 1.0 / y.size))
    return {
        "removal_damping": max(ridge, DEFAULTS.removal_damping * scale),
        "implied_ridge": ridge,
        "stationarity_residual": residual,
    }


def _removed_start(model, config: TrainConfig, W, b, x, y, damping: float, budget_bytes):
    """`FoldStart`s of an exported head: one damped Newton step removes the fold."""
    Wb = head_maths.stack(W, b)

    def start(keep_N: np.ndarray) -> FoldStart:
        new = newton.remove_samples(Wb, x, y, ~keep_N, damping, budget_bytes=budget_bytes)
        _, params = head_model(*head_maths.unstack(new))
        return FoldStart(model, TrainState(params, make_optimizer(config).init(params)))

    return start
