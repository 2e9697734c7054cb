"""The one curvature interface: ``make_inverse(scope, ...)`` and what its inverse does.

Both detection and unlearning need ``H_w^-1`` (or its pseudo-inverse), with
``H_w = sum_i w_i Hess L(z_i)`` over a curvature scope, applied in two ways:

- ``solve(b)``: ``H_w^-1 b`` for one right-hand side (a Newton or influence step);
- ``influence_scores()``: the three influence scores of every sample of the training set
  the inverse was built on (``w_i = 1/n``).

Each returns its result with a dict of diagnostics. The two scopes implement them:

- ``last_layer`` (`DenseInverse`, the paper): the exact dense Hessian of the last Dense
  kernel, eigendecomposed once; pseudo-inverse (``damping == 0``, eigenvalues below
  ``pinv_rtol * max`` dropped) or ``(H + damping I)^-1``. Scores from the n x P gradients.
- ``full`` (`MatrixFreeInverse`, beyond the paper): every parameter, only through
  Hessian-vector products. ``solve`` runs conjugate gradients on ``(H_w + damping I)``,
  doubling the damping (Levenberg) while CG meets negative curvature, at most
  `MAX_DAMPING_DOUBLINGS` times, then raises `IndefiniteHessianError`; a solve that runs
  out of iterations returns its iterate marked ``cg_converged: False``.
  ``influence_scores`` restricts ``(H + damping I)^-1`` to the span of H's `lanczos_rank`
  largest-magnitude eigenpairs (`full_eigenpairs`), each of whose eigenvalues must exceed
  ``-damping``, projecting the per-sample gradients in chunks.

The numbers (each scope's damping, the cut-off, CG's tolerance and iterations, the rank)
come whole from `mislabel.settings.CurvatureSettings`. All maths runs in float64
(`mislabel.network.precision`); callers pass float32 or float64 models.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from mislabel.checks import (
    IndefiniteHessianError,
    NumericalError,
    check_damping,
    check_name,
)
from mislabel.curvature.full import (
    cg_report,
    cg_solve,
    flatten,
    full_eigenpairs,
    lowrank_info,
    make_full_hvp,
)
from mislabel.curvature.last_layer import (
    Spectrum,
    per_sample_grads,
    spectral_inverse,
    spectral_solve,
    spectrum_info,
    weighted_hessian,
)
from mislabel.network.mlp import MLP, Params, per_sample_loss
from mislabel.network.precision import float64, float64_problem
from mislabel.registry import SCOPES
from mislabel.settings import CurvatureSettings

# Where conjugate gradients meet negative curvature, the damping is doubled at most this
# many times; the damping of the returned step is reported as `damping_used`.
MAX_DAMPING_DOUBLINGS = 6
GRADIENT_CHUNK = 256  # per-sample gradients of the full network are projected this many at once


class Inverse(Protocol):
    """What `make_inverse` returns, for either scope."""

    scope: str

    def solve(self, b_P: jax.Array) -> tuple[jax.Array, dict]:
        """``H_w^-1 b`` (float64, shape (P,)) and the diagnostics of the solve."""
        ...

    def influence_scores(self) -> tuple[dict[str, np.ndarray], dict]:
        """{"if_self", "if_train", "if_train_minus_z"}: (N,) arrays, and diagnostics."""
        ...


def make_inverse(
    scope: str,
    model: MLP,
    params: Params,
    x_NxD: Any,
    y_N: Any,
    w_N: Any | None = None,
    curvature: CurvatureSettings | None = None,
) -> Inverse:
    """The inverse Hessian of ``sum_i w_i L(z_i)`` over `scope` (``w_i = 1/n`` if None),
    damped by the scope's damping of `curvature` (`CurvatureSettings.damping_for`; the
    defaults if None).

    Raises:
      ValueError: an unknown scope, or settings their `check` refuses.
      IndefiniteHessianError: (last layer) ``damping > 0`` and ``H + damping I`` is not
        positive definite.
    """
    check_name(scope, SCOPES, "curvature scope")
    curvature = curvature or CurvatureSettings()
    curvature.check()
    n = np.shape(y_N)[0]
    with float64():
        params, x_NxD, y_N = float64_problem(params, x_NxD, y_N)
        w_N = jnp.full((n,), 1.0 / n) if w_N is None else jnp.asarray(w_N, jnp.float64)
        if scope == "full":
            return MatrixFreeInverse(model, params, x_NxD, y_N, w_N, curvature)
        hess = _weighted_hessian(model, params, x_NxD, y_N, w_N, "last_layer")
    problem = (model, params, x_NxD, y_N)
    return invert_dense(hess, curvature.damping_for(scope), curvature.pinv_rtol, problem)


def invert_dense(
    hess_PxP: Any, damping: float = 0.0, pinv_rtol: float = 1e-10, problem: tuple = (None,) * 4
) -> DenseInverse:
    """Invert a symmetric Hessian once, by eigendecomposition (`spectral_inverse`).

    `problem` = (model, float64 params, x, y) of the training set the Hessian was built on,
    needed by `influence_scores` only. The info holds rank, kept eigenvalue range,
    condition number, number of negative eigenvalues and method (`spectrum_info`).

    Raises:
      NumericalError: if the Hessian has NaN/Inf entries.
      IndefiniteHessianError: if ``damping > 0`` and ``H + damping I`` is not positive definite.
    """
    check_damping(damping)
    with float64():
        hess_PxP = jnp.asarray(hess_PxP, jnp.float64)
        bad = int(np.sum(~np.isfinite(np.asarray(hess_PxP))))
        if bad:
            raise NumericalError(f"the Hessian has {bad} NaN/Inf entries; the model is diverged")
        spectrum = _spectral_inverse(hess_PxP, float(damping), float(pinv_rtol))
        eigvals = np.asarray(spectrum.eigvals_P)
    info = spectrum_info(eigvals, damping, pinv_rtol)
    return DenseInverse(*problem, spectrum, info)


_weighted_hessian = jax.jit(weighted_hessian, static_argnames=("model", "scope"))
_spectral_inverse = jax.jit(spectral_inverse)


def influence_scores(grads_NxP: jax.Array, solve) -> dict[str, jax.Array]:
    """The three influence scores from per-sample gradients and ``solve(B) = H^-1 B``.

    ``if_self = g_z^T H^-1 g_z``; ``if_train = g_D^T H^-1 g_z`` (``g_D`` the mean gradient);
    ``if_train_minus_z = (n if_train - if_self) / (n - 1)``, i.e. with ``g_{D \\ z}``.
    """
    n = grads_NxP.shape[0]
    self_N = jnp.einsum("np,pn->n", grads_NxP, solve(grads_NxP.T))
    train_N = grads_NxP @ solve(grads_NxP.mean(axis=0))
    minus_z_N = (n * train_N - self_N) / (n - 1)
    return {"if_self": self_N, "if_train": train_N, "if_train_minus_z": minus_z_N}


@partial(jax.jit, static_argnames="model")
def _dense_scores(model: MLP, params: Params, x_NxD, y_N, spectrum: Spectrum):
    grads_NxP = per_sample_grads(model, params, x_NxD, y_N, "last_layer")
    return influence_scores(grads_NxP, partial(spectral_solve, spectrum))


_spectral_solve = jax.jit(spectral_solve)


class DenseInverse(NamedTuple):
    """The last layer's exact inverse (see the module docstring)."""

    model: MLP
    params: Params
    x_NxD: jax.Array
    y_N: jax.Array
    spectrum: Spectrum
    info: dict
    scope: str = "last_layer"

    def solve(self, b_P: jax.Array) -> tuple[jax.Array, dict]:
        with float64():
            return _spectral_solve(self.spectrum, jnp.asarray(b_P)), dict(self.info)

    def influence_scores(self) -> tuple[dict[str, np.ndarray], dict]:
        with float64():
            scores = _dense_scores(self.model, self.params, self.x_NxD, self.y_N, self.spectrum)
            return {k: np.asarray(v) for k, v in scores.items()}, dict(self.info)


@partial(jax.jit, static_argnames=("model", "maxiter"))
def _cg_step(model: MLP, params: Params, x_NxD, y_N, w_N, b_P, damping, tol, maxiter: int):
    hvp = make_full_hvp(model, params, x_NxD, y_N, w_N)
    return cg_solve(hvp, b_P, damping, tol, maxiter)


def lowrank_influence_scores(proj_NxK: jax.Array, scale_K: jax.Array) -> dict[str, jax.Array]:
    """The three influence scores from projections ``V^T g_z`` and ``1 / (lambda + damping)``.

    With ``H^-1 ~ V diag(scale) V^T``: self ``= sum_k scale_k (V^T g_z)_k^2``; train
    ``= (V^T g_z) . (scale * V^T g_D)`` where ``V^T g_D`` is the mean projection (linear).
    """
    n = proj_NxK.shape[0]
    self_N = jnp.sum(proj_NxK**2 * scale_K, axis=1)
    train_N = proj_NxK @ (scale_K * proj_NxK.mean(axis=0))
    minus_z_N = (n * train_N - self_N) / (n - 1)
    return {"if_self": self_N, "if_train": train_N, "if_train_minus_z": minus_z_N}


@partial(jax.jit, static_argnames="model")
def _lowrank_scores(model: MLP, params: Params, x_NxD, y_N, eigvecs_PxK, scale_K):
    """`lowrank_influence_scores` from per-sample gradients projected on the eigenvectors,
    `GRADIENT_CHUNK` samples at a time (never the n x P gradient matrix)."""
    theta_P, unravel = flatten(params)

    def project(sample) -> jax.Array:
        x_D, y = sample

        def loss(theta: jax.Array) -> jax.Array:
            return per_sample_loss(model.apply(unravel(theta), x_D[None, :]), y[None])[0]

        return eigvecs_PxK.T @ jax.grad(loss)(theta_P)

    proj_NxK = jax.lax.map(project, (x_NxD, y_N), batch_size=GRADIENT_CHUNK)
    return lowrank_influence_scores(proj_NxK, scale_K)


class MatrixFreeInverse(NamedTuple):
    """The full network's inverse, through Hessian-vector products (see the module docstring)."""

    model: MLP
    params: Params
    x_NxD: jax.Array
    y_N: jax.Array
    w_N: jax.Array
    curvature: CurvatureSettings
    scope: str = "full"

    def _cg(self, b_P: jax.Array, damping: float) -> tuple[jax.Array, dict]:
        with float64():
            args = (self.model, self.params, self.x_NxD, self.y_N, self.w_N, jnp.asarray(b_P))
            tol, maxiter = float(self.curvature.cg_tol), int(self.curvature.cg_maxiter)
            step, info = _cg_step(*args, float(damping), tol, maxiter)
            return step, cg_report(info)

    def solve(self, b_P: jax.Array) -> tuple[jax.Array, dict]:
        damping = used = float(self.curvature.damping_for(self.scope))
        for doubling in range(MAX_DAMPING_DOUBLINGS + 1):
            if doubling:
                used *= 2.0  # H_w + damping I is not positive definite: damp more (Levenberg)
            step, report = self._cg(b_P, used)
            if not report["negative_curvature"]:
                break
        else:
            raise IndefiniteHessianError(
                f"full-network Newton step: H + damping I is still indefinite after doubling "
                f"the damping {MAX_DAMPING_DOUBLINGS} times, from {damping:g} to {used:g} "
                f"(conjugate gradients met negative curvature); the model was not updated. "
                f"Raise full_damping above |lambda_min(H)|, to at least {2 * used:g}"
            )
        return step, {
            "cg_iterations": int(report["iterations"]),
            "cg_relative_residual": float(report["relative_residual"]),
            "cg_converged": bool(report["converged"]),
            "cg_negative_curvature": bool(report["negative_curvature"]),
            "damping": damping,
            "damping_used": used,
        }

    def influence_scores(self) -> tuple[dict[str, np.ndarray], dict]:
        damping = self.curvature.damping_for(self.scope)
        rank = int(self.curvature.lanczos_rank)
        with float64():
            args = (self.model, self.params, self.x_NxD, self.y_N)
            pairs = full_eigenpairs(*args, self.w_N, rank, seed=0)
            info = lowrank_info(pairs, damping)  # raises if some lambda <= -damping
            scale_K = 1.0 / (jnp.asarray(pairs.eigvals_K) + damping)
            scores = _lowrank_scores(*args, jnp.asarray(pairs.eigvecs_PxK), scale_K)
            return {k: np.asarray(v) for k, v in scores.items()}, info
