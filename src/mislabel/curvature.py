"""Curvature of the mean training loss, restricted to a parameter scope.

A *scope* picks the parameters the Hessian (and every influence/Newton update) acts on:

- ``last_layer``: the last Dense kernel (``head/kernel``, ``H_last x C`` values), as the
  authors' code. Its exact dense Hessian is computed once per model and inverted by an
  eigendecomposition, either as a pseudo-inverse (no damping, the reference) or as a damped
  solve ``(H + damping I)^-1``.

Callers only see `InverseHessian.solve`, so a matrix-free scope (Hessian-vector products and
conjugate gradients over all parameters) can be added without touching them.
All maths here is meant to run in float64 (see `mislabel.precision`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from mislabel.model import MLP, Params, per_sample_loss

SCOPES = ("last_layer",)


class NumericalError(RuntimeError):
    """A Hessian, gradient, score or update contains NaN or Inf."""


def check_scope(scope: str) -> None:
    """Raise a ValueError naming the allowed scopes if `scope` is unknown."""
    if scope not in SCOPES:
        raise ValueError(f"unknown curvature scope {scope!r}; allowed: {', '.join(SCOPES)}")


def get_scoped(params: Params, scope: str) -> jax.Array:
    """The scope's parameters as one flat vector, shape (P,)."""
    check_scope(scope)
    return params["params"]["head"]["kernel"].reshape(-1)


def set_scoped(params: Params, theta_P: jax.Array, scope: str) -> Params:
    """A copy of `params` whose scope parameters are replaced by `theta_P`."""
    check_scope(scope)
    kernel = params["params"]["head"]["kernel"]
    head = {**params["params"]["head"], "kernel": theta_P.reshape(kernel.shape)}
    return {**params, "params": {**params["params"], "head": head}}


def make_sample_loss(model: MLP, params: Params, scope: str) -> Callable:
    """Closure ``loss(theta_P, x_D, y) -> scalar``: one sample's loss as a function of the scope."""

    def loss(theta_P: jax.Array, x_D: jax.Array, y: jax.Array) -> jax.Array:
        logits = model.apply(set_scoped(params, theta_P, scope), x_D[None, :])
        return per_sample_loss(logits, y[None])[0]

    return loss


def make_mean_loss(model: MLP, params: Params, scope: str) -> Callable:
    """Closure ``loss(theta_P, x_NxD, y_N) -> scalar``: mean loss as a function of the scope."""

    def loss(theta_P: jax.Array, x_NxD: jax.Array, y_N: jax.Array) -> jax.Array:
        logits = model.apply(set_scoped(params, theta_P, scope), x_NxD)
        return per_sample_loss(logits, y_N).mean()

    return loss


def make_hvp(loss_fn: Callable) -> Callable:
    """Hessian-vector product ``hvp(theta, v, x, y) = H(theta) v`` as a jvp of the gradient."""

    def hvp(theta: jax.Array, v: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
        return jax.jvp(lambda t: jax.grad(loss_fn)(t, x, y), (theta,), (v,))[1]

    return hvp


@partial(jax.jit, static_argnames=("model", "scope"))
def per_sample_grads(
    model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array, scope: str
) -> jax.Array:
    """Gradient of each sample's loss w.r.t. the scope, shape (N, P), by `vmap`."""
    loss = make_sample_loss(model, params, scope)
    return jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(get_scoped(params, scope), x_NxD, y_N)


@partial(jax.jit, static_argnames=("model", "scope"))
def dense_hessian(
    model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array, scope: str
) -> jax.Array:
    """Exact Hessian of the mean loss over (x, y) w.r.t. the scope, shape (P, P)."""
    loss = make_mean_loss(model, params, scope)
    hess = jax.hessian(loss)(get_scoped(params, scope), x_NxD, y_N)
    return 0.5 * (hess + hess.T)


class InverseHessian(NamedTuple):
    """``solve(b)`` applies H^+ (or (H + damping I)^-1) to b of shape (P,) or (P, K)."""

    solve: Callable[[jax.Array], jax.Array]
    info: dict


@jax.jit
def _eigh(hess_PxP: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jnp.linalg.eigh(hess_PxP)


def invert_dense(hess_PxP: jax.Array, damping: float = 0.0, rtol: float = 1e-10) -> InverseHessian:
    """Invert a symmetric Hessian once, by eigendecomposition.

    Args:
      hess_PxP: symmetric (P, P) matrix.
      damping: 0 for the pseudo-inverse (eigenvalues with ``|lambda| <= rtol * max|lambda|``
        are dropped, as a pseudo-inverse drops small singular values); > 0 for the damped
        inverse ``(H + damping I)^-1`` over all eigenvalues.
      rtol: relative cut-off of the pseudo-inverse.
    Returns:
      InverseHessian with `solve` and `info` (rank, kept eigenvalue range, condition number,
      number of negative eigenvalues, method).
    """
    if damping < 0:
        raise ValueError(f"damping must be >= 0, got {damping}")
    hess_PxP = jnp.asarray(hess_PxP)
    if not bool(jnp.all(jnp.isfinite(hess_PxP))):
        bad = int(jnp.size(hess_PxP) - jnp.sum(jnp.isfinite(hess_PxP)))
        raise NumericalError(f"the Hessian has {bad} NaN/Inf entries; the model is diverged")
    eigvals_P, eigvecs_PxP = _eigh(hess_PxP)
    scale = float(jnp.max(jnp.abs(eigvals_P)))
    if damping > 0:
        inv_P = 1.0 / (eigvals_P + damping)
        kept = np.ones(eigvals_P.shape, bool)
        method = "damped"
    else:
        kept = np.asarray(jnp.abs(eigvals_P) > rtol * scale)
        inv_P = jnp.where(kept, 1.0 / jnp.where(kept, eigvals_P, 1.0), 0.0)
        method = "pinv"
    kept_vals = np.abs(np.asarray(eigvals_P)[kept])
    info = {
        "method": method,
        "damping": float(damping),
        "rtol": float(rtol),
        "n_params": int(hess_PxP.shape[0]),
        "rank": int(kept.sum()),
        "max_eigenvalue": float(scale),
        "min_kept_eigenvalue": float(kept_vals.min()) if kept_vals.size else 0.0,
        "condition_number": float(kept_vals.max() / kept_vals.min()) if kept_vals.size else 0.0,
        "n_negative": int(np.sum(np.asarray(eigvals_P) < -rtol * scale)),
    }

    def solve(b: jax.Array) -> jax.Array:
        coeff = eigvecs_PxP.T @ b
        coeff = coeff * (inv_P if coeff.ndim == 1 else inv_P[:, None])
        return eigvecs_PxP @ coeff

    return InverseHessian(jax.jit(solve), info)


def inverse_hessian(
    model: MLP,
    params: Params,
    x_NxD: jax.Array,
    y_N: jax.Array,
    scope: str = "last_layer",
    damping: float = 0.0,
    rtol: float = 1e-10,
) -> InverseHessian:
    """Inverse (pseudo-inverse or damped) of the mean-loss Hessian over (x, y), built once."""
    check_scope(scope)
    hess = dense_hessian(model, params, x_NxD, y_N, scope)
    return invert_dense(hess, damping=damping, rtol=rtol)
