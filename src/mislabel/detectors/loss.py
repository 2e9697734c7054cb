"""The loss detector: cross-entropy of the given label (the paper's baseline)."""

from __future__ import annotations

from functools import partial

import jax
import numpy as np

from mislabel.checks import check_finite
from mislabel.detectors.base import Detection, DetectorInput
from mislabel.network.mlp import MLP, Params, per_sample_loss
from mislabel.network.precision import float64, float64_problem


@partial(jax.jit, static_argnames="model")
def loss_scores(model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array) -> jax.Array:
    """Per-sample cross-entropy of the given labels, shape (N,)."""
    return per_sample_loss(model.apply(params, x_NxD), y_N)


def float64_loss_scores(model: MLP, params: Params, x_NxD, y_N) -> np.ndarray:
    """`loss_scores` in float64, as a NumPy array."""
    with float64():
        return np.asarray(loss_scores(model, *float64_problem(params, x_NxD, y_N)))


def score(names: tuple[str, ...], inp: DetectorInput) -> dict[str, Detection]:
    """The loss detector's scores (no curvature, no estimate of its own)."""
    (name,) = names
    scores = float64_loss_scores(inp.model, inp.params, inp.x_NxD, inp.y_N)
    check_finite(scores, f"{name} scores")
    return {name: Detection(scores, None, {"curvature": ""})}
