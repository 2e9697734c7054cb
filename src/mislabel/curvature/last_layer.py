"""Curvature of the mean training loss, restricted to a parameter scope: the pure pieces.

A *scope* picks the parameters the Hessian (and every influence/Newton update) acts on:

- ``last_layer``: the last Dense kernel (``head/kernel``, ``H_last x C`` values), as the
  authors' code. Its exact dense Hessian (`weighted_hessian`) is inverted by an
  eigendecomposition (`spectral_inverse`, `spectral_solve`, `spectrum_info`).
- ``full``: every parameter, flattened (`mislabel.curvature.full` touches its Hessian only
  through Hessian-vector products).

`mislabel.curvature.inverse.make_inverse` builds the inverse of either scope behind one interface;
detection and unlearning only use that. All maths here is meant to run in float64 (see
`mislabel.network.precision`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from mislabel.checks import IndefiniteHessianError, NumericalError, check_name
from mislabel.network.mlp import MLP, Params, per_sample_loss
from mislabel.registry import SCOPES


def get_scoped(params: Params, scope: str) -> jax.Array:
    """The scope's parameters as one flat vector, shape (P,)."""
    check_name(scope, SCOPES, "curvature scope")
    if scope == "full":
        return ravel_pytree(params)[0]
    return params["params"]["head"]["kernel"].reshape(-1)


def set_scoped(params: Params, theta_P: jax.Array, scope: str) -> Params:
    """A copy of `params` whose scope parameters are replaced by `theta_P`."""
    check_name(scope, SCOPES, "curvature scope")
    if scope == "full":
        return ravel_pytree(params)[1](theta_P)
    kernel = params["params"]["head"]["kernel"]
    head = {**params["params"]["head"], "kernel": theta_P.reshape(kernel.shape)}
    return {**params, "params": {**params["params"], "head": head}}


def make_sample_loss(model: MLP, params: Params, scope: str) -> Callable:
    """Closure ``loss(theta_P, x_D, y) -> scalar``: one sample's loss as a function of the scope."""

    def loss(theta_P: jax.Array, x_D: jax.Array, y: jax.Array) -> jax.Array:
        logits = model.apply(set_scoped(params, theta_P, scope), x_D[None, :])
        return per_sample_loss(logits, y[None])[0]

    return loss


@partial(jax.jit, static_argnames=("model", "scope"))
def per_sample_grads(
    model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array, scope: str
) -> jax.Array:
    """Gradient of each sample's loss w.r.t. the scope, shape (N, P), by `vmap`."""
    loss = make_sample_loss(model, params, scope)
    return jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(get_scoped(params, scope), x_NxD, y_N)


def weighted_hessian(
    model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array, w_N: jax.Array, scope: str
) -> jax.Array:
    """Exact Hessian of ``sum_i w_i L(z_i)`` w.r.t. the scope, shape (P, P) (pure, jittable).

    With ``w_i = 1/n`` it is the mean Hessian; with ``w_i = keep_i / (n - m)`` the mean over
    the kept samples only, at the same array shapes.
    """

    def loss(theta_P: jax.Array) -> jax.Array:
        logits = model.apply(set_scoped(params, theta_P, scope), x_NxD)
        return jnp.sum(w_N * per_sample_loss(logits, y_N))

    hess = jax.hessian(loss)(get_scoped(params, scope))
    return 0.5 * (hess + hess.T)


class Spectrum(NamedTuple):
    """Eigendecomposition of a symmetric Hessian and the inverted eigenvalues in use."""

    eigvals_P: jax.Array
    eigvecs_PxP: jax.Array
    inverse_P: jax.Array


def spectral_inverse(hess_PxP: jax.Array, damping: float, rtol: float) -> Spectrum:
    """Eigendecompose H and invert its eigenvalues (pure, jittable).

    ``damping > 0``: ``1 / (lambda + damping)`` for every eigenvalue (damped inverse).
    ``damping == 0``: pseudo-inverse, ``1 / lambda`` where ``|lambda| > rtol * max|lambda|``,
    else 0 (as a pseudo-inverse drops small singular values).
    """
    eigvals_P, eigvecs_PxP = jnp.linalg.eigh(hess_PxP)
    kept_P = jnp.abs(eigvals_P) > rtol * jnp.max(jnp.abs(eigvals_P))
    pinv_P = jnp.where(kept_P, 1.0 / jnp.where(kept_P, eigvals_P, 1.0), 0.0)
    damped_P = 1.0 / jnp.where(damping > 0, eigvals_P + damping, 1.0)
    return Spectrum(eigvals_P, eigvecs_PxP, jnp.where(damping > 0, damped_P, pinv_P))


def spectral_solve(spectrum: Spectrum, b: jax.Array) -> jax.Array:
    """Apply the inverse in `spectrum` to b of shape (P,) or (P, K) (pure, jittable)."""
    coeff = spectrum.eigvecs_PxP.T @ b
    coeff = coeff * (spectrum.inverse_P if coeff.ndim == 1 else spectrum.inverse_P[:, None])
    return spectrum.eigvecs_PxP @ coeff


def spectrum_info(eigvals_P: np.ndarray, damping: float, rtol: float) -> dict:
    """Diagnostics of an inversion: rank, kept eigenvalue range, condition number.

    The condition number is that of the matrix actually inverted: with ``damping > 0``,
    ``H + damping I``, i.e. ``(max lambda + damping) / (min lambda + damping)`` over all
    eigenvalues; with ``damping == 0``, H restricted to the kept eigenvalues,
    ``max |lambda| / min |lambda|`` over those (0.0 if none is kept).

    Raises:
      NumericalError: if an eigenvalue is NaN or Inf.
      IndefiniteHessianError: if ``damping > 0`` and ``min lambda + damping <= 0``.
    """
    eigvals_P = np.asarray(eigvals_P, np.float64)
    if not np.all(np.isfinite(eigvals_P)):
        raise NumericalError(
            f"the Hessian has {int(np.sum(~np.isfinite(eigvals_P)))} NaN/Inf eigenvalues; "
            "the model is diverged"
        )
    scale = float(np.max(np.abs(eigvals_P)))
    kept = np.ones(eigvals_P.shape, bool) if damping > 0 else np.abs(eigvals_P) > rtol * scale
    kept_vals = np.abs(eigvals_P[kept])
    if damping > 0:
        shifted_P = eigvals_P + damping
        if shifted_P.min() <= 0:
            raise IndefiniteHessianError(
                f"H + damping I is not positive definite: lambda_min(H) = {eigvals_P.min():.6g} "
                f"and damping {damping:g} give {shifted_P.min():.3g}; raise damping above "
                f"{-eigvals_P.min():.6g} (or use damping 0, the pseudo-inverse)"
            )
        condition = float(shifted_P.max() / shifted_P.min())
    else:
        condition = float(kept_vals.max() / kept_vals.min()) if kept_vals.size else 0.0
    return {
        "method": "damped" if damping > 0 else "pinv",
        "damping": float(damping),
        "rtol": float(rtol),
        "n_params": int(eigvals_P.size),
        "rank": int(kept.sum()),
        "max_eigenvalue": scale,
        "min_kept_eigenvalue": float(kept_vals.min()) if kept_vals.size else 0.0,
        "condition_number": condition,
        "n_negative": int(np.sum(eigvals_P < -rtol * scale)),
    }


@partial(jax.jit, static_argnames=("model", "scope"))
def forget_gradient(
    model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array, forget_N: jax.Array, scope: str
) -> jax.Array:
    """``sum_{z in forget} grad L(z)`` w.r.t. the scope, shape (P,)."""

    def forget_loss(theta_P: jax.Array) -> jax.Array:
        logits = model.apply(set_scoped(params, theta_P, scope), x_NxD)
        return jnp.sum(jnp.where(forget_N, per_sample_loss(logits, y_N), 0.0))

    return jax.grad(forget_loss)(get_scoped(params, scope))
