"""What a repair does to one trained model on one training set: score every sample, set
the budget m, flag the top m, and forget them, one candidate per damping.

The same procedure runs on the whole training set (the repair itself) and on each fold of
a cross-fit (`mislabel.repair.crossfit`), so what is judged is what is written.

- The budget: ``round(n r)`` for a given ratio r; else the detector's own estimate (aum,
  cleanlab); else `BUDGET_ESTIMATOR`'s.
- The closed-form unlearners (``influence``, ``ssse``) take one damped Newton step on the
  last layer, W and b (`mislabel.repair.newton`), once per relative damping of the grid;
  ``influence_full`` and ``ssse_full`` (every parameter of an MLP) once per damping of
  ``full_damping * FULL_DAMPING_FACTORS``. The other unlearners give one candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import numpy as np

from mislabel.curvature import softmax_head as head
from mislabel.detect import budget, flag_top, score_detector
from mislabel.network.mlp import MLP
from mislabel.network.train import TrainState
from mislabel.registry import UNLEARNERS
from mislabel.repair import newton
from mislabel.settings import (
    CurvatureSettings,
    DetectionSettings,
    RepairSettings,
    TrainConfig,
    UnlearningSettings,
)
from mislabel.unlearn import unlearn

BUDGET_ESTIMATOR = RepairSettings().budget_estimator
FULL_DAMPING_FACTORS = (0.25, 1.0, 4.0)  # the grid of full_damping for the _full steps
Log = Callable[[str], None]


class RepairRefused(ValueError):
    """A repair that flags most of the data, or is not shown to be no worse; nothing is
    written. `repair` holds the refused outcome when the repair ran."""

    def __init__(self, message: str, repair: Any = None):
        super().__init__(message)
        self.repair = repair


class Plan(NamedTuple):
    """Everything a repair does beyond the data: the detector, the unlearner, the ratio
    (None: estimated), the seed of the unlearners and of the folds, and the settings."""

    detector: str
    unlearner: str
    ratio: float | None
    seed: int
    train_config: TrainConfig
    curvature: CurvatureSettings
    detection: DetectionSettings
    unlearning: UnlearningSettings
    relative_dampings: tuple[float, ...]

    def detector_kwargs(self, margin_ExN=None) -> dict:
        return dict(
            seed=self.seed,
            train_config=self.train_config,
            margin_ExN=margin_ExN,
            curvature=self.curvature,
            detection=self.detection,
        )


class Option(NamedTuple):
    """One candidate repaired model: its parameters and how it was made (``damping``:
    absolute, None for unlearners without one; ``relative_damping``: the grid value)."""

    params: Any
    damping: float | None
    relative_damping: float | None
    step_norm_relative: float


class Forgotten(NamedTuple):
    """The scores, the flags, m and where it came from, and the candidate models."""

    scores_N: np.ndarray
    flagged_N: np.ndarray
    m: int
    budget_source: str
    options: list[Option]


def is_grid_search(unlearner: str) -> bool:
    """Whether `unlearner` makes one candidate per damping (a closed-form step)."""
    return UNLEARNERS[unlearner].runner.endswith("closed_form:run")


def set_budget(plan: Plan, found, n: int, score_again: Callable, log: Log) -> tuple[int, str]:
    """m and where it came from: the ratio, else the detector's estimate, else
    `BUDGET_ESTIMATOR`'s (`score_again(name)` scores with another detector)."""
    if plan.ratio is not None:
        return budget(n, plan.ratio), f"ratio {plan.ratio:g} given: round(n r)"
    if found.m_estimated is not None:
        return int(found.m_estimated), f"{plan.detector}'s own estimate"
    log(f"no ratio given: {BUDGET_ESTIMATOR} estimates the number of mislabeled samples")
    return int(score_again(BUDGET_ESTIMATOR).m_estimated), f"{BUDGET_ESTIMATOR}'s estimate"


@partial(jax.jit, static_argnames="model")
def penultimate(model: MLP, params, x_NxD) -> jax.Array:
    """The features the last layer sees (the input itself for a model without hidden layers)."""
    return model.apply(params, x_NxD, method=MLP.features)


def _with_head(params, Wb_D1xC: np.ndarray):
    """`params` with the last layer's kernel and bias replaced by the stacked head."""
    W, b = head.unstack(Wb_D1xC)
    new_head = {**params["params"]["head"], "kernel": W, "bias": b}
    return {**params, "params": {**params["params"], "head": new_head}}


def _relative_change(old, new) -> float:
    """||new - old|| / ||old|| over every parameter."""
    pairs = zip(jax.tree_util.tree_leaves(old), jax.tree_util.tree_leaves(new), strict=True)
    diff = sum(
        float(np.sum((np.asarray(b, np.float64) - np.asarray(a, np.float64)) ** 2))
        for a, b in pairs
    )
    norm = sum(
        float(np.sum(np.asarray(a, np.float64) ** 2)) for a in jax.tree_util.tree_leaves(old)
    )
    return float(np.sqrt(diff / max(norm, 1e-300)))


def forget(plan: Plan, model: MLP, state: TrainState, x_NxD, y_N, flagged_N) -> list[Option]:
    """The candidate models after forgetting `flagged_N` with the plan's unlearner."""
    entry = UNLEARNERS[plan.unlearner]
    params = state.params
    if is_grid_search(plan.unlearner) and entry.scope == "last_layer":
        features = np.asarray(penultimate(model, params, np.asarray(x_NxD, np.float32)), np.float64)
        kernel, bias = params["params"]["head"]["kernel"], params["params"]["head"]["bias"]
        Wb = head.stack(kernel, bias)
        steps = newton.forget_steps(
            entry.base,
            Wb,
            features,
            y_N,
            flagged_N,
            plan.relative_dampings,
            budget_bytes=plan.curvature.budget_bytes(),
        )
        options = []
        for c in steps:  # the step's size over every parameter, as for the other unlearners
            new_params = _with_head(params, c.Wb)
            moved = _relative_change(params, new_params)
            options.append(Option(new_params, c.damping, c.relative_damping, moved))
        return options
    if is_grid_search(plan.unlearner):  # every parameter, by conjugate gradients
        options = []
        for factor in FULL_DAMPING_FACTORS:
            damping = plan.curvature.full_damping * factor
            curvature = plan.curvature._replace(full_damping=damping)
            new = _unlearn(plan, model, state, x_NxD, y_N, flagged_N, curvature)
            options.append(
                Option(new.params, damping, factor, _relative_change(params, new.params))
            )
        return options
    new = _unlearn(plan, model, state, x_NxD, y_N, flagged_N, plan.curvature)
    return [Option(new.params, None, None, _relative_change(params, new.params))]


def _unlearn(plan, model, state, x_NxD, y_N, flagged_N, curvature) -> TrainState:
    result = unlearn(
        plan.unlearner,
        model,
        state,
        np.asarray(x_NxD, np.float32),
        np.asarray(y_N, np.int32),
        np.asarray(flagged_N, bool),
        seed=plan.seed,
        train_config=plan.train_config,
        curvature=curvature,
        unlearning=plan.unlearning,
    )
    return result.state


def detect_and_forget(
    plan: Plan,
    model: MLP,
    state: TrainState,
    x_NxD,
    y_N,
    *,
    margin_ExN=None,
    cap: bool = False,
    log: Log = print,
) -> Forgotten:
    """Score, flag the top m and forget them (see the module docstring).

    A budget above half the samples is refused (`RepairRefused`) before any unlearning,
    unless `cap`, which flags half instead (a cross-fit's fold follows the full run).
    """
    x_NxD = np.asarray(x_NxD, np.float32)
    y_N = np.asarray(y_N, np.int32)
    kwargs = plan.detector_kwargs(margin_ExN)
    found = score_detector(plan.detector, model, state.params, x_NxD, y_N, **kwargs)
    n = y_N.size

    def score_again(name: str):
        return score_detector(name, model, state.params, x_NxD, y_N, **kwargs)

    m, source = set_budget(plan, found, n, score_again, log)
    if m > n // 2:
        if not cap:
            raise RepairRefused(
                f"{source} flags {m} of {n} samples, more than half: not a credible count of "
                "label errors (the detector disagrees with the model on most samples). Give "
                "a noise ratio or another detector; nothing was written"
            )
        m = n // 2
    flagged_N = flag_top(found.scores_N, m)
    if m == 0:  # nothing to forget: the model as it is
        options = [Option(state.params, None, None, 0.0)]
    else:
        options = forget(plan, model, state, x_NxD, y_N, flagged_N)
    return Forgotten(np.asarray(found.scores_N, np.float64), flagged_N, m, source, options)
