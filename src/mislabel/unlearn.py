"""Forgetting a set of training samples with any registered unlearner (Algorithm 2 of the
paper and beyond), timed and checked.

The unlearners live in `mislabel.unlearners` (one module per family; the registry is
`mislabel.registry.UNLEARNERS`):

- ``influence``, ``ssse`` and their ``_full`` twins (`unlearners.closed_form`);
- ``finetune``, ``retrain`` (`unlearners.training`);
- ``neggrad_plus`` (`unlearners.neggrad_plus`), ``relabel`` (`unlearners.relabel`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from mislabel.checks import check_finite, check_forget, check_name
from mislabel.network.train import TrainState
from mislabel.registry import UNLEARNERS
from mislabel.settings import CurvatureSettings, TrainConfig, UnlearningSettings
from mislabel.stopwatch import Stopwatch
from mislabel.unlearners.base import UnlearnInput


class UnlearnResult(NamedTuple):
    """New training state, wall time of the unlearner in seconds, and diagnostics."""

    state: TrainState
    seconds: float
    info: dict


def check_unlearner(unlearner: str) -> None:
    """Raise a ValueError naming the allowed unlearners if `unlearner` is unknown."""
    check_name(unlearner, tuple(UNLEARNERS), "unlearner")


def unlearn(
    unlearner: str,
    model,
    state: TrainState,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    forget_N: np.ndarray,
    *,
    seed: int,
    train_config: TrainConfig | None = None,
    curvature: CurvatureSettings | None = None,
    unlearning: UnlearningSettings | None = None,
) -> UnlearnResult:
    """Forget the samples in `forget_N` with `unlearner` (any of `mislabel.registry.UNLEARNERS`).

    The unlearner runs once. `seconds` is its wall time less the time JAX spent tracing and
    compiling it (or loading it from the compilation cache), which `info["compile_seconds"]`
    holds (`mislabel.stopwatch`); `info["wall_seconds"]` is the sum of both.
    Args:
      x_NxD: float inputs in [0, 1]; y_N: the (noisy) training labels; forget_N: bool (N,).
      curvature, unlearning: settings (defaults: `mislabel.settings`).
    """
    check_unlearner(unlearner)
    curvature = curvature or CurvatureSettings()
    unlearning = unlearning or UnlearningSettings()
    curvature.check()
    forget_N = check_forget(forget_N, np.asarray(x_NxD).shape[0])
    if unlearning.finetune_epochs < 1:
        raise ValueError(f"finetune_epochs must be at least 1, got {unlearning.finetune_epochs}")
    inp = UnlearnInput(
        model,
        state,
        x_NxD,
        y_N,
        forget_N,
        seed,
        train_config or TrainConfig(),
        curvature,
        unlearning,
    )
    with Stopwatch() as watch:
        new, info = UNLEARNERS[unlearner].load()(unlearner, inp)
        new = jax.block_until_ready(new)
    for leaf in jax.tree_util.tree_leaves(new.params):
        check_finite(np.asarray(leaf), f"parameters after {unlearner}")
    timing = watch.timing
    info.update(
        unlearner=unlearner,
        n=int(forget_N.size),
        m_forget=int(forget_N.sum()),
        compile_seconds=timing.compile,
        wall_seconds=timing.wall,
    )
    return UnlearnResult(new, timing.science, info)
