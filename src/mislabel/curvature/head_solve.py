"""Damped solves with a softmax head's Hessian, without forming it: ``(H_w + damping I)^-1 b``.

``H_w = sum_i w_i H_i`` is the Hessian of a weighted sum of the samples' cross-entropies
at a head ``(W, b)`` (`mislabel.curvature.head` for the structure). A `HeadSystem` holds the
samples once, padded into chunks of one device array, and offers:

- `HeadSystem.matvec`: ``H_w V`` in O(N D C), one jitted scan over the chunks
  (``x~^T (w * (p * u - p (p . u)))`` with ``u = x~ V``);
- `HeadSystem.solve`: preconditioned conjugate gradients on those exact products, to
  ``||r|| <= tol ||b||``; the preconditioner is the EK-FAC inverse of ``H_w`` at the
  point where the system was first built (`mislabel.curvature.head`), computed once and
  kept by `HeadSystem.at`, which moves the head (Newton's method) without repeating it.

Conjugate gradients cost about ``4 N P`` multiply-adds per iteration and no (P, P) matrix,
so they beat the dense Hessian (``N P^2`` to build, ``P^3`` to factor) on heads with more
than about a thousand parameters (`mislabel.repair.newton.dense_is_cheaper`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from mislabel.curvature.head import _delta, _ekfac_basis, _head, chunk_size
from mislabel.network.precision import float64


class SolveInfo(NamedTuple):
    """How a conjugate-gradient solve ended."""

    iterations: int
    relative_residual: float
    converged: bool


@jax.jit
def _hvp_chunk(theta, b0, V_RxC, xt_BxR, y_B, w_B):
    """This chunk's ``sum_i w_i H_i V``: ``x~^T (w * (p * u - p (p . u)))``, ``u = x~ V``."""
    p_BxC, _ = _delta(theta, b0, xt_BxR, y_B, w_B)
    u_BxC = xt_BxR @ V_RxC
    lam_u_BxC = p_BxC * u_BxC - p_BxC * jnp.sum(p_BxC * u_BxC, axis=1, keepdims=True)
    return xt_BxR.T @ (w_B[:, None] * lam_u_BxC)


def _augmented(x_BxD, bias: bool):
    xt = x_BxD.astype(jnp.float64)
    if bias:
        xt = jnp.concatenate([xt, jnp.ones((xt.shape[0], 1), jnp.float64)], axis=1)
    return xt


@partial(jax.jit, static_argnames="bias")
def _hvp_all(theta, b0, V_RxC, x_KxBxD, y_KxB, w_KxB, bias: bool):
    """``sum_i w_i H_i V`` over every chunk (padding weighs 0)."""

    def add(total, block):
        x_BxD, y_B, w_B = block
        return total + _hvp_chunk(theta, b0, V_RxC, _augmented(x_BxD, bias), y_B, w_B), None

    total, _ = jax.lax.scan(add, jnp.zeros_like(V_RxC), (x_KxBxD, y_KxB, w_KxB))
    return total


@jax.jit
def _precondition(QA, QS, inv_RxC, R_RxC):
    """The EK-FAC inverse applied to a residual: ``Q_A ((Q_A^T R Q_S) / lambda) Q_S^T``."""
    return QA @ ((QA.T @ R_RxC @ QS) * inv_RxC) @ QS.T


def _chunked(a_N: np.ndarray, chunk: int, dtype) -> jax.Array:
    """`a_N` padded with zeros to a whole number of chunks, shaped (K, chunk, ...)."""
    pad = -len(a_N) % chunk
    padded = np.zeros((len(a_N) + pad, *a_N.shape[1:]), dtype)
    padded[: len(a_N)] = a_N
    return jnp.asarray(padded.reshape(-1, chunk, *a_N.shape[1:]))


class HeadSystem:
    """``sum_i w_i H_i`` of a softmax head at ``(W, b)``, as an operator (module docstring).

    Args:
      W_DxC, b_C: the head; x_NxD, y_N: the samples and their labels; weights_N: w (N,).
      bias: the bias is a parameter (vectors are (D+1, C)); False: the kernel only (D, C).
      chunk: samples per chunk (default: `mislabel.curvature.head.chunk_size`).
    The features are kept in their own precision (float32 or float64) and computed with in
    float64.
    """

    def __init__(self, W_DxC, b_C, x_NxD, y_N, weights_N, *, bias=True, chunk=None):
        x = np.asarray(x_NxD)
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        self._W, self._b = np.asarray(W_DxC, np.float64), np.asarray(b_C, np.float64)
        self._x, self._y = x, np.asarray(y_N, np.int32)
        self._weights = np.asarray(weights_N, np.float64)
        self.bias = bool(bias)
        rows, c = x.shape[1] + self.bias, self._W.shape[1]
        self.chunk = int(chunk or chunk_size(rows, c, "ekfac"))
        with float64():
            self._blocks = (
                _chunked(x, self.chunk, dtype),
                _chunked(self._y, self.chunk, np.int32),
                _chunked(self._weights, self.chunk, np.float64),
            )
            self._theta, self._b0 = self._point(self._W, self._b)
        self._basis = None

    @property
    def n_classes(self) -> int:
        return self._W.shape[1]

    def _point(self, W, b):
        head = _head(W, b, self._x[:0], self._y[:0], self.bias)
        return head.theta, head.b0

    def at(self, W_DxC, b_C) -> HeadSystem:
        """The same samples, weights and preconditioner (built here first, at this head),
        at another head."""
        self._preconditioner()
        moved = object.__new__(HeadSystem)
        moved.__dict__.update(self.__dict__)
        moved._W, moved._b = np.asarray(W_DxC, np.float64), np.asarray(b_C, np.float64)
        with float64():
            moved._theta, moved._b0 = self._point(moved._W, moved._b)
        return moved

    def _preconditioner(self):
        if self._basis is None:
            with float64():
                head = _head(self._W, self._b, self._x, self._y, self.bias, self._weights)
                QA, QS, lam = _ekfac_basis(head, self.chunk, None)
                self._basis = (QA, QS, jnp.maximum(lam, 0.0))
        return self._basis

    def matvec(self, V_RxC) -> np.ndarray:
        """``H_w V`` for V shaped as the parameters."""
        with float64():
            V = jnp.asarray(V_RxC, jnp.float64)
            return np.asarray(_hvp_all(self._theta, self._b0, V, *self._blocks, self.bias))

    def solve(
        self,
        rhs,
        damping: float,
        *,
        x0=None,
        tol: float = 1e-10,
        maxiter: int = 500,
        log: Callable[[str], None] | None = None,
    ) -> tuple[np.ndarray, SolveInfo]:
        """``(H_w + damping I)^-1 rhs`` by preconditioned conjugate gradients from `x0`
        (default 0), until ``||r|| <= tol ||rhs||``; progress every 10 iterations on `log`."""
        if not damping > 0:
            raise ValueError(f"a damped solve needs damping > 0, got {damping}")
        with float64():
            QA, QS, lam = self._preconditioner()
            inv = 1.0 / (lam + damping)
            b = jnp.asarray(rhs, jnp.float64)
            b_norm = float(jnp.linalg.norm(b))
            if b_norm == 0:
                return np.zeros(b.shape), SolveInfo(0, 0.0, True)

            def matvec(V):
                hv = _hvp_all(self._theta, self._b0, V, *self._blocks, self.bias)
                return hv + damping * V

            V = jnp.zeros_like(b) if x0 is None else jnp.asarray(x0, jnp.float64)
            R = b - matvec(V) if x0 is not None else b
            residual = float(jnp.linalg.norm(R)) / b_norm
            if residual <= tol:
                return np.asarray(V), SolveInfo(0, residual, True)
            Z = _precondition(QA, QS, inv, R)
            D, rz = Z, float(jnp.vdot(R, Z))
            for it in range(1, maxiter + 1):
                AD = matvec(D)
                alpha = rz / float(jnp.vdot(D, AD))
                V, R = V + alpha * D, R - alpha * AD
                residual = float(jnp.linalg.norm(R)) / b_norm
                if log is not None and it % 10 == 0:
                    log(f"conjugate gradients: iteration {it}, relative residual {residual:.1e}")
                if residual <= tol:
                    return np.asarray(V), SolveInfo(it, residual, True)
                Z = _precondition(QA, QS, inv, R)
                rz_new = float(jnp.vdot(R, Z))
                D, rz = Z + (rz_new / rz) * D, rz_new
            return np.asarray(V), SolveInfo(maxiter, residual, False)


def damped_solve(
    W_DxC,
    b_C,
    x_NxD,
    y_N,
    weights_N,
    rhs,
    damping: float,
    *,
    bias: bool = True,
    tol: float = 1e-10,
    maxiter: int = 500,
    chunk: int | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[np.ndarray, SolveInfo]:
    """``(sum_i w_i H_i + damping I)^-1 rhs`` for a head, without the (P, P) Hessian: one
    `HeadSystem.solve` (EK-FAC preconditioned conjugate gradients; the weights should sum
    to 1, as a mean's do, for the preconditioner to fit).

    Args:
      rhs: shaped as the parameters, (D+1, C) with the bias, else (D, C).
    Returns:
      (the solution, shaped as `rhs`; `SolveInfo`).
    """
    if not damping > 0:
        raise ValueError(f"a damped solve needs damping > 0, got {damping}")
    system = HeadSystem(W_DxC, b_C, x_NxD, y_N, weights_N, bias=bias, chunk=chunk)
    return system.solve(rhs, damping, tol=tol, maxiter=maxiter, log=log)
