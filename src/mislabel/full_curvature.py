"""Matrix-free curvature over ALL network parameters: HVPs, conjugate gradients, Lanczos.

`mislabel.curvature` forms the dense Hessian of the last layer. Over the whole network
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
- `lanczos` + `low_rank_solve`: the top-K eigenpairs (largest magnitude) of H by Lanczos
  with full reorthogonalisation, then ``V diag(1 / (lambda + damping)) V^T b``, the inverse
  restricted to the top-K eigenspace (the component of b outside it is dropped), as
  Schioppa et al. 2022, "Scaling up influence functions". Building it costs K HVPs (each
  about 2-3 forward + backward passes over the n samples) plus O(P K^2) flops for the
  reorthogonalisation (twice against all previous vectors); scoring all n samples then
  costs one ``(n x P) @ (P x K)`` product. Memory: ``P * K`` floats for the eigenvectors plus
  ``n * P`` for the per-sample gradients (`full_per_sample_grads`; chunk over n if needed).

Everything is pure and jittable; loops are ``lax.while_loop`` / ``lax.fori_loop`` with static
sizes. The solvers take an ``hvp(v_P) -> Hv_P`` closure, so to jit with parameters and data
as traced arguments (not baked-in constants) build the closure inside the jitted function::

    @jax.jit
    def top_eigs(params, x_NxD, y_N, w_N, key):
        return lanczos(make_full_hvp(model, params, x_NxD, y_N, w_N), dim, rank, key)

Call inside `mislabel.precision.float64()` with float64 parameters and data. Non-finite
results raise `mislabel.curvature.NumericalError` in the host-side reports; a CG solve that
did not converge only produces a warning string (`check_converged`), for callers to log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from mislabel.curvature import NumericalError
from mislabel.model import MLP, Params, per_sample_loss

Hvp = Callable[[jax.Array], jax.Array]


# --------------------------------------------------------------------------- flat parameters


def flatten(params: Params) -> tuple[jax.Array, Callable[[jax.Array], Params]]:
    """All parameters as one vector ``theta_P`` and the inverse map ``unravel(theta_P)``."""
    return ravel_pytree(params)


def get_flat(params: Params) -> jax.Array:
    """All parameters as one flat vector, shape (P,) (the ordering of `flatten`)."""
    return flatten(params)[0]


def set_flat(params: Params, theta_P: jax.Array) -> Params:
    """A pytree shaped like `params` holding the values of `theta_P`, shape (P,)."""
    return flatten(params)[1](theta_P)


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
    theta_P = get_flat(params)
    grad = jax.grad(make_weighted_loss(model, params, x_NxD, y_N, w_N))

    def hvp(v_P: jax.Array) -> jax.Array:
        return jax.jvp(grad, (theta_P,), (v_P.astype(theta_P.dtype),))[1]

    return hvp


def full_per_sample_grads(
    model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array
) -> jax.Array:
    """Gradient of each sample's loss w.r.t. all parameters, shape (N, P), by `vmap`."""
    theta_P, unravel = flatten(params)

    def loss(theta: jax.Array, x_D: jax.Array, y: jax.Array) -> jax.Array:
        return per_sample_loss(model.apply(unravel(theta), x_D[None, :]), y[None])[0]

    return jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(theta_P, x_NxD, y_N)


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


def check_converged(report: dict, what: str) -> str | None:
    """A warning string if the CG solve in `report` (from `cg_report`) failed, else None."""
    if report["converged"]:
        return None
    why = (
        "met negative curvature (increase damping)"
        if report["negative_curvature"]
        else f"did not converge in {report['iterations']} iterations"
    )
    return f"{what}: conjugate gradients {why}; relative residual {report['relative_residual']:.3g}"


# ------------------------------------------------------------------------------- Lanczos


def _orthogonalise(basis_MxP: jax.Array, v_P: jax.Array) -> jax.Array:
    """Remove from v its components along the rows of `basis` (twice, for stability).

    Rows not yet filled are zero and contribute nothing.
    """
    for _ in range(2):
        v_P = v_P - basis_MxP.T @ (basis_MxP @ v_P)
    return v_P


def _unit(v_P: jax.Array) -> jax.Array:
    norm = jnp.linalg.norm(v_P)
    return v_P / jnp.where(norm > 0, norm, 1.0)


def lanczos(
    hvp: Hvp,
    dim: int,
    rank: int,
    key: jax.Array,
    n_iter: int | None = None,
    dtype: jnp.dtype | None = None,
) -> tuple[jax.Array, jax.Array]:
    """The `rank` largest-magnitude Ritz pairs of a symmetric H by Lanczos.

    Runs ``m = min(max(n_iter, rank), dim)`` steps (``n_iter`` defaults to `rank`; more
    steps make the kept pairs more accurate), each one HVP, reorthogonalising every new
    vector twice against all previous ones. When the Krylov space is exhausted (the new
    residual is below ``sqrt(eps) * ||H||``, e.g. ``rank == dim`` or repeated eigenvalues)
    it restarts from a random vector orthogonal to the basis, so no NaN appears and
    ``rank == dim`` gives all eigenvalues. Pure and jittable (`dim`, `rank`, `n_iter` static).

    Args:
      hvp: ``hvp(v_P) -> Hv_P`` of a symmetric H.
      dim: P, the length of v.
      rank: number of Ritz pairs to return; K = min(rank, dim).
      key: PRNG key for the start (and restart) vectors.
      n_iter: number of Lanczos steps (>= rank), default rank.
      dtype: dtype of the vectors, default JAX's float (float64 inside `float64()`).

    Returns:
      eigvals_K, largest magnitude first, and orthonormal eigvecs_PxK.
    """
    if dim < 1 or rank < 1 or (n_iter is not None and n_iter < 1):
        raise ValueError(f"dim, rank and n_iter must be positive, got {dim}, {rank}, {n_iter}")
    dtype = jax.dtypes.canonicalize_dtype(jnp.float64 if dtype is None else dtype)
    k = min(rank, dim)
    m = min(max(n_iter or k, k), dim)
    eps = jnp.finfo(dtype).eps
    start_key, restart_key = jax.random.split(key)

    basis = jnp.zeros((m + 1, dim), dtype)
    basis = basis.at[0].set(_unit(jax.random.normal(start_key, (dim,), dtype)))

    def step(j, carry):
        basis, alpha_M, beta_M, scale = carry
        v_P = basis[j]
        w_P = hvp(v_P).astype(dtype)
        alpha = jnp.vdot(v_P, w_P)
        w_P = _orthogonalise(basis, w_P)
        beta = jnp.linalg.norm(w_P)
        scale = jnp.maximum(scale, jnp.maximum(jnp.abs(alpha), beta))
        breakdown = beta <= jnp.sqrt(eps) * scale

        def restart() -> jax.Array:
            fresh_P = jax.random.normal(jax.random.fold_in(restart_key, j), (dim,), dtype)
            return _unit(_orthogonalise(basis, _unit(fresh_P)))

        next_P = jax.lax.cond(breakdown, restart, lambda: w_P / beta)
        return (
            basis.at[j + 1].set(next_P),
            alpha_M.at[j].set(alpha),
            beta_M.at[j].set(jnp.where(breakdown, 0.0, beta)),
            scale,
        )

    init = (basis, jnp.zeros(m, dtype), jnp.zeros(m, dtype), jnp.zeros((), dtype))
    basis, alpha_M, beta_M, _ = jax.lax.fori_loop(0, m, step, init)
    off = beta_M[: m - 1]
    tri_MxM = jnp.diag(alpha_M) + jnp.diag(off, 1) + jnp.diag(off, -1)
    ritz_M, s_MxM = jnp.linalg.eigh(tri_MxM)
    order_K = jnp.argsort(-jnp.abs(ritz_M))[:k]
    return ritz_M[order_K], basis[:m].T @ s_MxM[:, order_K]


class LowRankInverse(NamedTuple):
    """Top-K eigenpairs of H and the damping of ``(H + damping I)^-1`` on their span."""

    eigvals_K: jax.Array
    eigvecs_PxK: jax.Array
    damping: float | jax.Array


def low_rank_solve(inv: LowRankInverse, b: jax.Array) -> jax.Array:
    """``V diag(1 / (lambda + damping)) V^T b`` for b of shape (P,) or (P, M) (jittable).

    The component of b outside the top-K eigenspace is dropped (Schioppa et al. 2022).
    """
    scale_K = 1.0 / (inv.eigvals_K + inv.damping)
    coeff = inv.eigvecs_PxK.T @ b
    coeff = coeff * (scale_K if coeff.ndim == 1 else scale_K[:, None])
    return inv.eigvecs_PxK @ coeff


def lowrank_info(eigvals_K: np.ndarray, damping: float) -> dict:
    """Diagnostics of a low-rank inverse: rank, Ritz value range, negatives, damping.

    Raises:
      NumericalError: if a Ritz value is NaN or Inf.
    """
    eigvals_K = np.asarray(eigvals_K, np.float64)
    if not np.all(np.isfinite(eigvals_K)):
        bad = int(np.sum(~np.isfinite(eigvals_K)))
        raise NumericalError(f"Lanczos produced {bad} NaN/Inf Ritz values; the model is diverged")
    shifted = np.abs(eigvals_K + damping)
    return {
        "method": "lanczos",
        "rank": int(eigvals_K.size),
        "max_eigenvalue": float(eigvals_K.max()) if eigvals_K.size else 0.0,
        "min_eigenvalue": float(eigvals_K.min()) if eigvals_K.size else 0.0,
        "n_negative": int(np.sum(eigvals_K < 0)),
        "min_abs_shifted": float(shifted.min()) if eigvals_K.size else 0.0,
        "damping": float(damping),
    }


def check_full_damping(damping: float) -> None:
    """Raise a ValueError unless damping > 0: the full-network Hessian is singular and
    indefinite, so ``H + damping I`` needs a positive damping to be inverted at all."""
    if not damping > 0:
        raise ValueError(
            f"full-network curvature needs damping > 0 (H is singular and indefinite), "
            f"got {damping}"
        )
