"""Anomaly scores for every training sample, the top-m flags, and detection metrics.

Detectors (Algorithm 1 of the paper); higher score = more likely mislabeled:
- ``loss``: cross-entropy of the given label.
- ``if_self``: ``g_z^T H^+ g_z`` (self-influence, z_test = z).
- ``if_train``: ``g_D^T H^+ g_z`` with ``g_D`` the gradient of the mean training loss.
- ``if_train_minus_z``: ``g_{D\\z}^T H^+ g_z`` with ``g_{D\\z} = (n g_D - g_z) / (n - 1)``.
The constant 1/n of the influence formula is dropped, and scores are ranked with a `+` sign,
highest first, as the authors' code. ``H`` is the mean Hessian over the whole (noisy)
training set, restricted to the curvature scope, computed once.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from mislabel.curvature import (
    InverseHessian,
    NumericalError,
    check_damping,
    check_scope,
    per_sample_grads,
    spectral_inverse,
    spectral_solve,
    spectrum_info,
    weighted_hessian,
)
from mislabel.model import MLP, Params, per_sample_loss
from mislabel.noise import n_flips
from mislabel.precision import float64, to_float64

DETECTORS = ("loss", "if_self", "if_train", "if_train_minus_z")
INFLUENCE_DETECTORS = ("if_self", "if_train", "if_train_minus_z")


def check_detector(detector: str) -> None:
    """Raise a ValueError naming the allowed detectors if `detector` is unknown."""
    if detector not in DETECTORS:
        raise ValueError(f"unknown detector {detector!r}; allowed: {', '.join(DETECTORS)}")


def loss_scores(model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array) -> jax.Array:
    """Per-sample cross-entropy of the given labels, shape (N,)."""
    return per_sample_loss(model.apply(params, x_NxD), y_N)


def influence_on(g_test_P: jax.Array, grads_NxP: jax.Array, inverse: InverseHessian) -> jax.Array:
    """``g_test^T H^+ g_z`` for every training sample z, shape (N,)."""
    return grads_NxP @ inverse.solve(g_test_P)


def influence_scores(grads_NxP: jax.Array, inverse: InverseHessian) -> dict[str, jax.Array]:
    """All three influence scores from per-sample gradients and the inverse Hessian.

    Args:
      grads_NxP: gradient of each training sample's loss w.r.t. the curvature scope.
      inverse: H^+ (or damped inverse) of the mean training-loss Hessian.
    Returns:
      {"if_self", "if_train", "if_train_minus_z"}: arrays of shape (N,).
    """
    n = grads_NxP.shape[0]
    self_N = jnp.einsum("np,pn->n", grads_NxP, inverse.solve(grads_NxP.T))
    train_N = influence_on(grads_NxP.mean(axis=0), grads_NxP, inverse)
    minus_z_N = (n * train_N - self_N) / (n - 1)
    return {"if_self": self_N, "if_train": train_N, "if_train_minus_z": minus_z_N}


@partial(jax.jit, static_argnames=("model", "detectors", "scope"))
def _all_scores(
    model: MLP,
    params: Params,
    x_NxD: jax.Array,
    y_N: jax.Array,
    detectors: tuple[str, ...],
    scope: str,
    damping: float,
    rtol: float,
):
    """Every requested score in one compiled program (float64); also H's eigenvalues."""
    params = to_float64(params)
    x_NxD = x_NxD.astype(jnp.float64)
    out = {}
    if "loss" in detectors:
        out["loss"] = loss_scores(model, params, x_NxD, y_N)
    eigvals_P = jnp.zeros((0,))
    wanted = [d for d in detectors if d in INFLUENCE_DETECTORS]
    if wanted:
        n = x_NxD.shape[0]
        hess = weighted_hessian(model, params, x_NxD, y_N, jnp.full((n,), 1.0 / n), scope)
        spectrum = spectral_inverse(hess, damping, rtol)
        inverse = InverseHessian(partial(spectral_solve, spectrum), {})
        scores = influence_scores(per_sample_grads(model, params, x_NxD, y_N, scope), inverse)
        out.update({d: scores[d] for d in wanted})
        eigvals_P = spectrum.eigvals_P
    return out, eigvals_P


def anomaly_scores(
    model: MLP,
    params: Params,
    x_NxD: jax.Array,
    y_N: jax.Array,
    detectors: tuple[str, ...] = DETECTORS,
    *,
    scope: str = "last_layer",
    damping: float = 0.0,
    rtol: float = 1e-10,
) -> tuple[dict[str, np.ndarray], dict]:
    """Scores of every requested detector, in float64, one compiled program (H built once).

    Returns:
      ({detector: scores (N,)}, curvature info dict, or {} if no influence detector ran).
    """
    for detector in detectors:
        check_detector(detector)
    check_scope(scope)
    check_damping(damping)
    with float64():  # the curvature needs float64 (see mislabel.precision)
        out, eigvals = _all_scores(
            model,
            params,
            jnp.asarray(x_NxD),
            jnp.asarray(y_N, jnp.int32),
            tuple(detectors),
            scope,
            float(damping),
            float(rtol),
        )
        out = {k: np.asarray(v) for k, v in out.items()}
        eigvals = np.asarray(eigvals)
    info = spectrum_info(eigvals, damping, rtol) if eigvals.size else {}
    for name, values in out.items():
        check_finite(values, f"{name} scores")
    return out, info


def check_finite(values: np.ndarray, what: str) -> None:
    """Raise NumericalError naming `what` and the offending positions if not all finite."""
    values = np.asarray(values)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise NumericalError(
            f"{what} contain {bad.size} NaN/Inf values (first at indices {bad[:5].tolist()}: "
            f"{values.reshape(-1)[bad[:5]].tolist()}); the model or its curvature is degenerate"
        )


def budget(n: int, ratio: float) -> int:
    """Detection budget m = round(n * r), rounding halves up (not to even)."""
    if not 0 <= ratio < 1:
        raise ValueError(f"noise ratio must be in [0, 1), got {ratio}")
    return n_flips(ratio, n)


def flag_top(scores_N: np.ndarray, m: int) -> np.ndarray:
    """Boolean mask of the `m` highest scores (ties broken by lower index first)."""
    scores_N = np.asarray(scores_N)
    if not 0 <= m <= scores_N.shape[0]:
        raise ValueError(f"cannot flag m={m} of {scores_N.shape[0]} samples")
    order = np.argsort(-scores_N, kind="stable")
    flagged = np.zeros(scores_N.shape[0], bool)
    flagged[order[:m]] = True
    return flagged
