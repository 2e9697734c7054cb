"""Forgetting a set of training samples (Algorithm 2 of the paper).

With ``n`` training samples, ``m = |D_forget|`` and ``G = sum_{z in D_forget} grad L(z)``
(gradients w.r.t. the curvature scope, at the trained parameters):

- ``influence`` (Koh & Liang): ``theta + (1/n) H^+ G``, H over the whole training set.
- ``ssse`` (Peste et al.; one Newton step): ``theta + 1/(n-m) H_rem^+ G``, H_rem the mean
  Hessian over the remaining samples.
- ``finetune``: continue SGD from the trained state (momentum kept, as the authors' code)
  on the remaining samples.
- ``retrain``: fresh initialisation with the same seed, trained on the remaining samples.

Only the scope's parameters change in the two closed-form updates.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from mislabel.curvature import (
    InverseHessian,
    get_scoped,
    inverse_hessian,
    per_sample_grads,
    set_scoped,
)
from mislabel.detect import check_finite
from mislabel.model import MLP, Params
from mislabel.train import TrainConfig, TrainState, check_config, fit, new_state, seed_keys

METHODS = ("influence", "ssse", "finetune", "retrain")


class UnlearnResult(NamedTuple):
    """New training state, wall time of the method in seconds, and diagnostics."""

    state: TrainState
    seconds: float
    info: dict


def check_method(method: str) -> None:
    """Raise a ValueError naming the allowed methods if `method` is unknown."""
    if method not in METHODS:
        raise ValueError(f"unknown unlearning method {method!r}; allowed: {', '.join(METHODS)}")


def check_forget(forget_N: np.ndarray, n: int) -> np.ndarray:
    """Validate a boolean forget mask of length n that leaves at least one sample."""
    forget_N = np.asarray(forget_N)
    if forget_N.dtype != bool or forget_N.shape != (n,):
        raise ValueError(
            f"forget mask must be boolean of shape ({n},), got {forget_N.dtype} {forget_N.shape}"
        )
    if forget_N.all():
        raise ValueError("the forget set is the whole training set; nothing would remain")
    return forget_N


def forget_gradient_sum(
    model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array, forget_N: np.ndarray, scope: str
) -> jax.Array:
    """``sum_{z in D_forget} grad L(z, theta)`` w.r.t. the scope, shape (P,)."""
    idx = np.flatnonzero(forget_N)
    if idx.size == 0:
        return jnp.zeros_like(get_scoped(params, scope))
    return per_sample_grads(model, params, x_NxD[idx], y_N[idx], scope).sum(axis=0)


def influence_update(
    model: MLP,
    params: Params,
    x_NxD: jax.Array,
    y_N: jax.Array,
    forget_N: np.ndarray,
    inverse: InverseHessian,
    scope: str = "last_layer",
) -> Params:
    """``theta + (1/n) H^+ sum_forget grad L(z)`` with `inverse` built on all n samples."""
    n = x_NxD.shape[0]
    grad_sum = forget_gradient_sum(model, params, x_NxD, y_N, forget_N, scope)
    theta = get_scoped(params, scope) + inverse.solve(grad_sum) / n
    return set_scoped(params, theta, scope)


def ssse_update(
    model: MLP,
    params: Params,
    x_NxD: jax.Array,
    y_N: jax.Array,
    forget_N: np.ndarray,
    *,
    scope: str = "last_layer",
    damping: float = 0.0,
    rtol: float = 1e-10,
) -> tuple[Params, dict]:
    """``theta + 1/(n-m) H_rem^+ sum_forget grad L(z)``; returns params and curvature info."""
    n, m = x_NxD.shape[0], int(np.sum(forget_N))
    keep = np.flatnonzero(~forget_N)
    inverse = inverse_hessian(model, params, x_NxD[keep], y_N[keep], scope, damping, rtol)
    grad_sum = forget_gradient_sum(model, params, x_NxD, y_N, forget_N, scope)
    theta = get_scoped(params, scope) + inverse.solve(grad_sum) / (n - m)
    return set_scoped(params, theta, scope), inverse.info


def finetune(
    model: MLP,
    state: TrainState,
    x_NxD: jax.Array,
    y_N: jax.Array,
    forget_N: np.ndarray,
    seed: int,
    config: TrainConfig,
) -> TrainState:
    """Continue training `state` (momentum included) on the remaining samples."""
    keep = np.flatnonzero(~forget_N)
    check_config(config, keep.size)
    _, data_key = seed_keys(seed)
    x_keep = jnp.asarray(x_NxD[keep], jnp.float32)
    new, _ = fit(model, state, x_keep, jnp.asarray(y_N[keep], jnp.int32), data_key, config)
    return new


def retrain(
    model: MLP,
    x_NxD: jax.Array,
    y_N: jax.Array,
    forget_N: np.ndarray,
    seed: int,
    config: TrainConfig,
) -> TrainState:
    """Train from the seed's fresh initialisation on the remaining samples."""
    keep = np.flatnonzero(~forget_N)
    check_config(config, keep.size)
    _, data_key = seed_keys(seed)
    state = new_state(model, seed, x_NxD.shape[1], config)
    x_keep = jnp.asarray(x_NxD[keep], jnp.float32)
    new, _ = fit(model, state, x_keep, jnp.asarray(y_N[keep], jnp.int32), data_key, config)
    return new


def _run(
    method: str,
    model: MLP,
    state: TrainState,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    forget_N: np.ndarray,
    *,
    seed: int,
    train_config: TrainConfig,
    finetune_epochs: int,
    scope: str,
    damping: float,
    rtol: float,
) -> tuple[TrainState, dict]:
    from mislabel.precision import float64, to_float32, to_float64

    if method in ("finetune", "retrain"):
        if method == "finetune":
            config = train_config._replace(epochs=finetune_epochs)
            new = finetune(model, state, x_NxD, y_N, forget_N, seed, config)
        else:
            new = retrain(model, x_NxD, y_N, forget_N, seed, train_config)
        return jax.block_until_ready(new), {}
    with float64():
        params64 = to_float64(state.params)
        x64 = to_float64(jnp.asarray(x_NxD))
        y = jnp.asarray(y_N, jnp.int32)
        if method == "influence":
            inverse = inverse_hessian(model, params64, x64, y, scope, damping, rtol)
            params, info = (
                influence_update(model, params64, x64, y, forget_N, inverse, scope),
                inverse.info,
            )
        else:
            params, info = ssse_update(
                model, params64, x64, y, forget_N, scope=scope, damping=damping, rtol=rtol
            )
        params = jax.block_until_ready(params)
        params32 = to_float32(params)
    return TrainState(params32, state.opt_state), dict(info)


def unlearn(
    method: str,
    model: MLP,
    state: TrainState,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    forget_N: np.ndarray,
    *,
    seed: int,
    train_config: TrainConfig | None = None,
    finetune_epochs: int = 20,
    scope: str = "last_layer",
    damping: float = 0.0,
    rtol: float = 1e-10,
    repeats: int = 2,
) -> UnlearnResult:
    """Forget the samples in `forget_N` with `method`; time it.

    The method runs `repeats` times (it is deterministic): `seconds` is the fastest run
    (steady state) and `info["seconds_first"]` the first one, which includes JIT compilation.
    Args:
      x_NxD: float inputs in [0, 1]; y_N: the (noisy) training labels; forget_N: bool (N,).
    """
    check_method(method)
    train_config = train_config or TrainConfig()
    forget_N = check_forget(forget_N, np.asarray(x_NxD).shape[0])
    if finetune_epochs < 1:
        raise ValueError(f"finetune_epochs must be at least 1, got {finetune_epochs}")
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        new, info = _run(
            method,
            model,
            state,
            x_NxD,
            y_N,
            forget_N,
            seed=seed,
            train_config=train_config,
            finetune_epochs=finetune_epochs,
            scope=scope,
            damping=damping,
            rtol=rtol,
        )
        times.append(time.perf_counter() - start)
    for leaf in jax.tree_util.tree_leaves(new.params):
        check_finite(np.asarray(leaf), f"parameters after {method}")
    info.update(
        method=method,
        n=int(forget_N.size),
        m_forget=int(forget_N.sum()),
        seconds_first=times[0],
    )
    return UnlearnResult(new, min(times), info)
