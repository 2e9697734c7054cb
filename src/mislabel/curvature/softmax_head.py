"""The curvature of a softmax head, from its structure: ``logits = x W + b``.

A head's parameters are stacked as ``Wb = [[W], [b]]``, shape ``(D+1, C)``, and flattened
row-major, so parameter ``(d, c)`` has index ``d C + c`` (P = (D+1) C). With the augmented
sample ``x~ = [x, 1]``, probabilities ``p`` and ``delta = p - e_y``:

- the gradient of one sample's cross-entropy is ``x~ delta^T`` (the outer product
  ``x~ (x) delta``), never materialised for all samples at once;
- the Hessian of ``sum_i w_i L(z_i)`` is ``sum_i w_i kron(x~_i x~_i^T, Lambda_i)`` with
  ``Lambda_i = diag(p_i) - p_i p_i^T``, built in chunks of `CHUNK` samples;
- its product with a direction ``V`` (``(D+1) x C``) is
  ``X~^T (w * (p * U - p (p . U)))`` with ``U = X~ V``: O(N D C), no Hessian.

Both W and b are parameters: the Newton steps here update the bias too. Every function is
pure and jitted; the maths runs in float64 (`mislabel.network.precision`): callers pass float64
arrays inside ``float64()``, or use the NumPy wrappers at the end, which do.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from mislabel.network.precision import float64

CHUNK = 512  # samples per step when the Hessian is summed


def stack(W_DxC, b_C) -> np.ndarray:
    """``[[W], [b]]``, shape (D+1, C), float64."""
    return np.vstack([np.asarray(W_DxC, np.float64), np.asarray(b_C, np.float64)[None, :]])


def unstack(Wb_D1xC) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of a stacked head, float32 (the dtype a head file stores)."""
    Wb = np.asarray(Wb_D1xC)
    return Wb[:-1].astype(np.float32), Wb[-1].astype(np.float32)


def logits(Wb_D1xC: jax.Array, x_NxD: jax.Array) -> jax.Array:
    """``x W + b``, shape (N, C)."""
    return x_NxD @ Wb_D1xC[:-1] + Wb_D1xC[-1]


def _augment(x_NxD: jax.Array) -> jax.Array:
    return jnp.concatenate([x_NxD, jnp.ones((x_NxD.shape[0], 1), x_NxD.dtype)], axis=1)


@jax.jit
def weighted_gradient(Wb_D1xC: jax.Array, x_NxD: jax.Array, y_N: jax.Array, w_N: jax.Array):
    """``sum_i w_i grad L(z_i)`` as a (D+1, C) array: ``X~^T (w * (p - e_y))``."""
    p_NxC = jax.nn.softmax(logits(Wb_D1xC, x_NxD), axis=1)
    delta_NxC = p_NxC - jax.nn.one_hot(y_N, p_NxC.shape[1], dtype=p_NxC.dtype)
    return _augment(x_NxD).T @ (w_N[:, None] * delta_NxC)


@jax.jit
def weighted_loss(Wb_D1xC: jax.Array, x_NxD: jax.Array, y_N: jax.Array, w_N: jax.Array):
    """``sum_i w_i L(z_i)``, the cross-entropy of the given labels."""
    z_NxC = logits(Wb_D1xC, x_NxD)
    picked_N = jnp.take_along_axis(z_NxC, y_N[:, None], axis=1)[:, 0]
    return jnp.sum(w_N * (jax.nn.logsumexp(z_NxC, axis=1) - picked_N))


@jax.jit
def hvp(Wb_D1xC: jax.Array, x_NxD: jax.Array, w_N: jax.Array, V_D1xC: jax.Array) -> jax.Array:
    """``H_w V`` for a direction V of the head's shape, H_w the Hessian of
    ``sum_i w_i L(z_i)``, without forming H: O(N D C)."""
    p_NxC = jax.nn.softmax(logits(Wb_D1xC, x_NxD), axis=1)
    u_NxC = logits(V_D1xC, x_NxD)  # X~ V
    lam_u_NxC = p_NxC * u_NxC - p_NxC * jnp.sum(p_NxC * u_NxC, axis=1, keepdims=True)
    return _augment(x_NxD).T @ (w_N[:, None] * lam_u_NxC)


@partial(jax.jit, static_argnames="chunk")
def hessian(Wb_D1xC: jax.Array, x_NxD: jax.Array, w_N: jax.Array, chunk: int = CHUNK):
    """The exact Hessian of ``sum_i w_i L(z_i)`` over (W, b), shape (P, P), summed over
    chunks of `chunk` samples (memory O(P^2 + chunk P))."""
    n, d = x_NxD.shape
    c = Wb_D1xC.shape[1]
    pad = -n % chunk
    x_pad = jnp.concatenate([x_NxD, jnp.zeros((pad, d), x_NxD.dtype)])
    w_pad = jnp.concatenate([w_N, jnp.zeros((pad,), w_N.dtype)])
    blocks = (x_pad.reshape(-1, chunk, d), w_pad.reshape(-1, chunk))

    def add(total, block):
        x_BxD, w_B = block
        xt_BxD1 = _augment(x_BxD)
        p_BxC = jax.nn.softmax(logits(Wb_D1xC, x_BxD), axis=1)
        # sum_i w_i x~ x~^T p_ic on the class diagonal ...
        diag_D1xD1xC = jnp.einsum("bd,be,bc->dec", xt_BxD1, xt_BxD1, w_B[:, None] * p_BxC)
        # ... minus sum_i w_i (x~ (x) p)(x~ (x) p)^T
        z_BxP = (jnp.sqrt(w_B)[:, None, None] * xt_BxD1[:, :, None] * p_BxC[:, None, :]).reshape(
            x_BxD.shape[0], -1
        )
        outer = z_BxP.T @ z_BxP
        diag = jnp.einsum("dec,ck->dcek", diag_D1xD1xC, jnp.eye(c, dtype=p_BxC.dtype))
        return total + diag.reshape(outer.shape) - outer, None

    size = (d + 1) * c
    total, _ = jax.lax.scan(add, jnp.zeros((size, size), x_NxD.dtype), blocks)
    return 0.5 * (total + total.T)


@jax.jit
def _trace(Wb_D1xC: jax.Array, x_NxD: jax.Array, w_N: jax.Array) -> jax.Array:
    p_NxC = jax.nn.softmax(logits(Wb_D1xC, x_NxD), axis=1)
    # tr kron(x~ x~^T, Lambda) = ||x~||^2 tr(Lambda) = ||x~||^2 (1 - ||p||^2)
    return jnp.sum(w_N * (jnp.sum(x_NxD**2, axis=1) + 1.0) * (1.0 - jnp.sum(p_NxC**2, axis=1)))


def _numpy64(fn, *arrays) -> np.ndarray:
    """`fn` of NumPy arrays, run in float64 (integer arrays, the labels, as int32)."""
    with float64():
        args = [
            jnp.asarray(
                a, jnp.int32 if np.issubdtype(np.asarray(a).dtype, np.integer) else jnp.float64
            )
            for a in arrays
        ]
        return np.asarray(fn(*args))


def mean_eigenvalue(Wb_D1xC, x_NxD, w_N) -> float:
    """tr(H) / P of the Hessian of ``sum_i w_i L(z_i)``, in O(N D C) (no Hessian)."""
    return float(_numpy64(_trace, Wb_D1xC, x_NxD, w_N)) / np.size(Wb_D1xC)


def dense_hessian(Wb_D1xC, x_NxD, w_N) -> np.ndarray:
    """`hessian` in float64 from NumPy arrays (a writable copy)."""
    return np.array(_numpy64(hessian, Wb_D1xC, x_NxD, w_N))


class Spectrum(NamedTuple):
    """Eigendecomposition of a head's Hessian (float64), reused for every damping."""

    eigvals_P: np.ndarray
    eigvecs_PxP: np.ndarray

    @property
    def mean_eigenvalue(self) -> float:
        """tr(H) / P: the scale that relative dampings multiply."""
        return float(np.mean(self.eigvals_P))

    def damped_solve(self, b_P: np.ndarray, damping: float) -> np.ndarray:
        """``(H + damping I)^-1 b``; H is positive semi-definite, so damping > 0 inverts it."""
        if not damping > 0:
            raise ValueError(f"a head's Newton step needs damping > 0, got {damping}")
        coeff_P = self.eigvecs_PxP.T @ b_P
        return self.eigvecs_PxP @ (coeff_P / (np.maximum(self.eigvals_P, 0.0) + damping))


def spectrum(Wb_D1xC, x_NxD, w_N) -> Spectrum:
    """The eigendecomposition of the Hessian of ``sum_i w_i L(z_i)`` over (W, b)."""
    eigvals, eigvecs = np.linalg.eigh(dense_hessian(Wb_D1xC, x_NxD, w_N))
    return Spectrum(eigvals, eigvecs)


def loss_sum(Wb_D1xC, x_NxD, y_N, w_N) -> float:
    """`weighted_loss` in float64 from NumPy arrays."""
    return float(_numpy64(weighted_loss, Wb_D1xC, x_NxD, y_N, w_N))


def gradient_sum(Wb_D1xC, x_NxD, y_N, w_N) -> np.ndarray:
    """`weighted_gradient` in float64 from NumPy arrays, flattened to (P,)."""
    return _numpy64(weighted_gradient, Wb_D1xC, x_NxD, y_N, w_N).reshape(-1)
