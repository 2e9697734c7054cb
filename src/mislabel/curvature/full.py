"""Matrix-free curvature over ALL network parameters: HVPs, conjugate gradients, eigenpairs.

`mislabel.curvature.last_layer` forms the dense Hessian of the last layer. Over the whole network
(41,902 parameters for the paper's ``[50, 50]`` MLP on MNIST) a dense Hessian would take
14 GB and an eigendecomposition hours, so here the Hessian is only touched through exact
Hessian-vector products (`make_full_hvp`, forward-over-reverse: ``jvp`` of ``grad``), and is
inverted in one of two ways:

- `cg_solve`: conjugate gradients on ``(H + damping I) x = b``, one right-hand side at a
  time, to a relative residual `tol`. Exact up to `tol`, but each solve costs up to
  `maxiter` HVPs, so it suits a few right-hand sides (a Newton step, one test gradient).
  CG needs a positive definite operator; a network Hessian is indefinite away from a strict
  minimum, so callers add damping, and `CGInfo.negative_curvature` reports when it was not
  enough (the solve then stops at the last iterate).
- `full_eigenpairs`: the K largest-magnitude eigenpairs of H, then
  ``V diag(1 / (lambda + damping)) V^T b``, the inverse restricted to that eigenspace (the
  component of b outside it is dropped), as Schioppa et al. 2022, "Scaling up influence
  functions". The eigenpairs come from ARPACK's implicitly restarted Lanczos
  (`scipy.sparse.linalg.eigsh`, driven from the host through the jitted `full_hvp`),
  converged pair by pair to ``||H v - lambda v|| <= EIG_TOL * |lambda|``; the residuals
  are then recomputed with K fresh HVPs (`Eigenpairs.residuals_K`) and reported by
  `lowrank_info` with the number of HVPs used (a few times K). Scoring all n samples then
  costs one ``(n x P) @ (P x K)`` product. Memory: ARPACK's ``P * (2K + 1)`` basis plus
  the per-sample gradients, chunked over n by the callers.

`cg_solve` is pure and jittable (``lax.while_loop``) and takes an ``hvp(v_P) -> Hv_P``
closure; to jit it with parameters and data as traced arguments (not baked-in constants)
build the closure inside the jitted function, as `full_hvp` does. The eigensolver runs on
the host and calls jitted HVPs. Call everything inside `mislabel.network.precision.float64()` with
float64 parameters and data. Non-finite results raise `mislabel.curvature.last_layer.NumericalError`
in the host-side reports; whether a CG solve converged is in its report (`cg_report`), for
callers to act on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from mislabel.checks import NumericalError, check_lowrank_damping
from mislabel.network.mlp import MLP, Params, per_sample_loss

Hvp = Callable[[jax.Array], jax.Array]
HostOp = Callable[[np.ndarray], np.ndarray]  # float64 NumPy in and out, e.g. v_P -> H v_P


# --------------------------------------------------------------------------- flat parameters


def flatten(params: Params) -> tuple[jax.Array, Callable[[jax.Array], Params]]:
    """All parameters as one vector ``theta_P`` and the inverse map ``unravel(theta_P)``."""
    return ravel_pytree(params)


# --------------------------------------------------------------------- gradients and HVPs


def make_weighted_loss(
    model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array, w_N: jax.Array
) -> Callable[[jax.Array], jax.Array]:
    """Closure ``loss(theta_P) = sum_i w_i L(z_i)`` over all parameters (flattened)."""
    unravel = flatten(params)[1]

    def loss(theta_P: jax.Array) -> jax.Array:
        return jnp.sum(w_N * per_sample_loss(model.apply(unravel(theta_P), x_NxD), y_N))

    return loss


def make_full_hvp(
    model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array, w_N: jax.Array
) -> Hvp:
    """Exact Hessian-vector product of ``sum_i w_i L(z_i)`` w.r.t. all parameters.

    ``w_i = 1/n`` gives the mean-loss Hessian; ``w_i = keep_i / (n - m)`` the mean over the
    kept samples, at the same shapes for every forget set.

    Returns:
      ``hvp(v_P) -> Hv_P``, forward-over-reverse (``jvp`` of ``grad``), pure and jittable.
    """
    theta_P = flatten(params)[0]
    grad = jax.grad(make_weighted_loss(model, params, x_NxD, y_N, w_N))

    def hvp(v_P: jax.Array) -> jax.Array:
        return jax.jvp(grad, (theta_P,), (v_P.astype(theta_P.dtype),))[1]

    return hvp


# ------------------------------------------------------------------- conjugate gradients


class CGInfo(NamedTuple):
    """Outcome of `cg_solve` (0-d arrays).

    iterations: CG updates applied to the iterate (one HVP each, plus one at the end).
    relative_residual: ``||(H + damping I) x - b|| / ||b||``, recomputed from the final x.
    converged: ``relative_residual <= tol`` and no negative curvature met.
    negative_curvature: some search direction had ``p^T (H + damping I) p <= 0``.
    """

    iterations: jax.Array
    relative_residual: jax.Array
    converged: jax.Array
    negative_curvature: jax.Array


def cg_solve(
    hvp: Hvp, b_P: jax.Array, damping: float, tol: float = 1e-6, maxiter: int = 1000
) -> tuple[jax.Array, CGInfo]:
    """Solve ``(H + damping I) x = b`` by conjugate gradients, from ``x = 0``.

    Stops when ``||r|| <= tol * ||b||`` (recursive residual), after `maxiter` updates, or at
    the first search direction with ``p^T A p <= 0`` (A is not positive definite; the current
    iterate is returned). Pure and jittable (`maxiter` static); vmap it for several b.

    Returns:
      x_P, shape (P,), and a `CGInfo`.
    """

    def matvec(v_P: jax.Array) -> jax.Array:
        return hvp(v_P) + damping * v_P

    b_norm = jnp.linalg.norm(b_P)
    stop = tol * b_norm

    def cond(state):
        _, r_P, _, rs, k, neg = state
        return (k < maxiter) & (jnp.sqrt(rs) > stop) & ~neg

    def body(state):
        x_P, r_P, p_P, rs, k, _ = state
        ap_P = matvec(p_P)
        pap = jnp.vdot(p_P, ap_P)
        neg = ~(pap > 0)  # also catches NaN
        alpha = jnp.where(neg, 0.0, rs / jnp.where(neg, 1.0, pap))
        x_new = x_P + alpha * p_P
        r_new = r_P - alpha * ap_P
        rs_new = jnp.vdot(r_new, r_new)
        p_new = r_new + (rs_new / jnp.where(rs > 0, rs, 1.0)) * p_P

        def keep(new: jax.Array, old: jax.Array) -> jax.Array:
            return jnp.where(neg, old, new)

        return (
            keep(x_new, x_P),
            keep(r_new, r_P),
            keep(p_new, p_P),
            keep(rs_new, rs),
            k + jnp.where(neg, 0, 1),
            neg,
        )

    init = (jnp.zeros_like(b_P), b_P, b_P, jnp.vdot(b_P, b_P), jnp.asarray(0), jnp.asarray(False))
    x_P, _, _, _, k, neg = jax.lax.while_loop(cond, body, init)
    rel = jnp.linalg.norm(matvec(x_P) - b_P) / jnp.where(b_norm > 0, b_norm, 1.0)
    return x_P, CGInfo(k, rel, (rel <= tol) & ~neg, neg)


def cg_report(info: CGInfo) -> dict:
    """`CGInfo` (possibly batched by vmap) as plain Python numbers; worst case over a batch.

    Raises:
      NumericalError: if the residual is NaN or Inf (the model or the HVP is broken).
    """
    rel = np.asarray(info.relative_residual, np.float64)
    if not np.all(np.isfinite(rel)):
        raise NumericalError("conjugate gradients produced a NaN/Inf residual")
    return {
        "iterations": int(np.max(info.iterations)),
        "relative_residual": float(np.max(rel)),
        "converged": bool(np.all(info.converged)),
        "negative_curvature": bool(np.any(info.negative_curvature)),
    }


# ------------------------------------------------------------------------ top eigenpairs

EIG_TOL = 1e-6  # ARPACK stops when ||H v - lambda v|| <= EIG_TOL * |lambda| for every pair
HVP_CHUNK = 32  # vectors per vmapped HVP batch in `full_hvp_columns`


@partial(jax.jit, static_argnames="model")
def full_hvp(model: MLP, params: Params, x_NxD, y_N, w_N, v_P: jax.Array) -> jax.Array:
    """`make_full_hvp` applied to one vector v_P, shape (P,); parameters and data are traced
    arguments, so it compiles once per shape however often the host calls it."""
    return make_full_hvp(model, params, x_NxD, y_N, w_N)(v_P)


@partial(jax.jit, static_argnames="model")
def full_hvp_columns(model: MLP, params: Params, x_NxD, y_N, w_N, v_PxM: jax.Array) -> jax.Array:
    """`full_hvp` of every column of v_PxM, shape (P, M), vmapped `HVP_CHUNK` at a time."""
    hvp = make_full_hvp(model, params, x_NxD, y_N, w_N)
    return jax.lax.map(hvp, v_PxM.T, batch_size=HVP_CHUNK).T


class Eigenpairs(NamedTuple):
    """The `rank` largest-magnitude eigenpairs of a symmetric H, with their accuracy.

    eigvals_K: largest magnitude first. eigvecs_PxK: orthonormal columns.
    residuals_K: ``||H v_k - lambda_k v_k||``, recomputed with fresh HVPs after the solve.
    matvecs: HVPs the solver used (the residual check's K more are not counted).
    """

    eigvals_K: np.ndarray
    eigvecs_PxK: np.ndarray
    residuals_K: np.ndarray
    matvecs: int


def top_eigenpairs(
    matvec: HostOp, matmat: HostOp, dim: int, rank: int, *, seed: int = 0, tol: float = EIG_TOL
) -> Eigenpairs:
    """The ``K = min(rank, dim)`` largest-magnitude eigenpairs of a symmetric H (host side).

    ``K < dim``: ARPACK's implicitly restarted Lanczos (`scipy.sparse.linalg.eigsh`,
    ``which="LM"``) on a `LinearOperator`, from a start vector fixed by `seed`, to the
    relative accuracy `tol` (``tol=0``: machine precision). ``K == dim``: H is formed from
    `dim` columns ``H e_j`` and diagonalised densely. Either way the residuals are then
    recomputed by one `matmat` of the K eigenvectors.

    Args:
      matvec: ``v_P -> H v_P``; matmat: the same for (P, M); dim: P; rank: K wanted.
    Raises:
      ValueError: for a non-positive `dim` or `rank`, or a negative `tol`.
      NumericalError: if ARPACK did not converge or H gives NaN/Inf.
    """
    from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh
    from threadpoolctl import threadpool_limits

    if dim < 1 or rank < 1 or not tol >= 0:
        raise ValueError(f"need dim >= 1, rank >= 1, tol >= 0; got {dim}, {rank}, {tol}")
    k = min(rank, dim)
    count = [0]

    def counted(v: np.ndarray) -> np.ndarray:
        count[0] += 1
        hv_P = np.asarray(matvec(np.asarray(v, np.float64).reshape(dim)), np.float64)
        if not np.all(np.isfinite(hv_P)):
            raise NumericalError(f"Hessian-vector product {count[0]} contains NaN/Inf")
        return hv_P

    if k < dim:
        start_P = np.random.default_rng(seed).standard_normal(dim)
        operator = LinearOperator((dim, dim), matvec=counted, dtype=np.float64)
        try:  # one BLAS thread: ARPACK's level-2 work is memory-bound, and idle BLAS
            # threads spinning between calls slow the jitted HVPs down (measured 1.5x)
            with threadpool_limits(limits=1, user_api="blas"):
                eigvals_K, eigvecs_PxK = eigsh(operator, k=k, which="LM", v0=start_P, tol=tol)
        except ArpackError as err:  # includes ArpackNoConvergence
            raise NumericalError(
                f"eigsh failed after {count[0]} HVPs for {k} eigenpairs ({err}); "
                "lower lanczos_rank or check the model"
            ) from err
    else:
        hess_PxP = np.asarray(matmat(np.eye(dim)), np.float64)
        count[0] = dim
        if not np.all(np.isfinite(hess_PxP)):
            raise NumericalError("the Hessian-vector products contain NaN/Inf")
        eigvals_K, eigvecs_PxK = np.linalg.eigh(0.5 * (hess_PxP + hess_PxP.T))
    order_K = np.argsort(-np.abs(eigvals_K), kind="stable")
    eigvals_K, eigvecs_PxK = eigvals_K[order_K], eigvecs_PxK[:, order_K]
    hv_PxK = np.asarray(matmat(eigvecs_PxK), np.float64)
    residuals_K = np.linalg.norm(hv_PxK - eigvecs_PxK * eigvals_K, axis=0)
    return Eigenpairs(eigvals_K, eigvecs_PxK, residuals_K, count[0])


def full_eigenpairs(model: MLP, params: Params, x_NxD, y_N, w_N, rank: int, **kw) -> Eigenpairs:
    """`top_eigenpairs` (keywords `seed`, `tol`) of the Hessian of ``sum_i w_i L(z_i)`` over
    all parameters; each matvec is one call of the jitted `full_hvp` (compiled once).
    Call inside `mislabel.network.precision.float64()` with float64 parameters and data."""

    def matvec(v_P: np.ndarray) -> np.ndarray:
        return np.asarray(full_hvp(model, params, x_NxD, y_N, w_N, jnp.asarray(v_P)))

    def matmat(v_PxM: np.ndarray) -> np.ndarray:
        return np.asarray(full_hvp_columns(model, params, x_NxD, y_N, w_N, jnp.asarray(v_PxM)))

    return top_eigenpairs(matvec, matmat, int(flatten(params)[0].size), rank, **kw)


def lowrank_info(pairs: Eigenpairs, damping: float) -> dict:
    """Diagnostics of a low-rank inverse, after checking that it is safe to use.

    Keys: method, rank, max/min_eigenvalue, n_negative, min_abs_shifted (min |lambda +
    damping|), damping; eig_max_residual (max over the pairs of ``||H v - lambda v||``),
    eig_max_relative_residual (that over max |lambda|), eig_matvecs (HVPs of the solve).

    Raises:
      NumericalError: if an eigenvalue or residual is NaN or Inf.
      ValueError: if an eigenvalue is <= -damping (see `check_lowrank_damping`).
    """
    eigvals_K = np.asarray(pairs.eigvals_K, np.float64)
    residuals_K = np.asarray(pairs.residuals_K, np.float64)
    if not (np.all(np.isfinite(eigvals_K)) and np.all(np.isfinite(residuals_K))):
        raise NumericalError("NaN/Inf eigenvalues or residuals: the model is diverged")
    check_lowrank_damping(eigvals_K, damping)
    scale = float(np.abs(eigvals_K).max()) if eigvals_K.size else 0.0
    max_residual = float(residuals_K.max()) if residuals_K.size else 0.0
    return {
        "method": "eigsh",
        "rank": int(eigvals_K.size),
        "max_eigenvalue": float(eigvals_K.max()) if eigvals_K.size else 0.0,
        "min_eigenvalue": float(eigvals_K.min()) if eigvals_K.size else 0.0,
        "n_negative": int(np.sum(eigvals_K < 0)),
        "min_abs_shifted": float(np.abs(eigvals_K + damping).min()) if eigvals_K.size else 0.0,
        "damping": float(damping),
        "eig_max_residual": max_residual,
        "eig_max_relative_residual": max_residual / scale if scale > 0 else 0.0,
        "eig_matvecs": int(pairs.matvecs),
    }
