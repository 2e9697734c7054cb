"""Influence scores of a softmax head (``logits = x W + b``) of any size, from its structure.

A sample's gradient over the stacked head ``Wb`` ((D+1, C), `mislabel.curvature.softmax_head`)
is the outer product ``x~_i (x) delta_i`` (``x~ = [x, 1]``, ``delta = p - e_y``) and the
Hessian of the mean loss is ``H = mean_i kron(x~_i x~_i^T, Lambda_i)``,
``Lambda_i = diag(p_i) - p_i p_i^T``. No N x P array is ever formed: samples stream in chunks
of `chunk`, and the work reports its progress. Two curvatures:

- ``exact``: H as a dense float64 matrix and the paper's inverse: the pseudo-inverse
  (``damping == 0``: eigenvalues at most ``pinv_rtol * max`` dropped, as the paper's last
  layer) or ``(H + damping I)^-1``. Adding one vector to every class column leaves the
  softmax unchanged, so those R directions are H's exact null space: without damping H is
  formed in the (C-1)-dimensional class basis orthogonal to them (``class_basis``), which
  the pseudo-inverse would drop anyway. The inverse is a Cholesky factorization when H
  (plus the damping) is positive definite and, without damping, its smallest eigenvalue is
  at least `CHOLESKY_MARGIN` times the cut (Lanczos estimates from the factor); otherwise
  one eigendecomposition. Memory O(P^2), time O(N P^2) (``N P'^2 / 2`` multiply-adds for H
  and as many for the scores, ``P' = R (C-1)``) plus O(P^3).
- ``ekfac``: H in the eigenbasis ``Q_A (x) Q_S`` of its Kronecker factors
  ``A = mean x~ x~^T`` and ``S = mean Lambda_i``, with each eigenvalue corrected to H's own
  curvature along that direction, ``lambda_jk = mean_i (q_A,j . x~_i)^2 q_S,k^T Lambda_i q_S,k``
  (EK-FAC, George et al. 2018, here with the exact Hessian of the head in place of the
  empirical Fisher). A gradient's coordinates in that basis are the outer product of its two
  small projections, so a sample costs O(D^2 + C^2 + D C), and memory is O(D^2 + C^2 + D C).

``auto`` picks ``exact`` while its estimated memory fits the budget and its work,
``N P^2 + P^3``, is at most `EXACT_MAX_WORK` (about a minute on two CPU cores), else
``ekfac``. Every path estimates its peak memory before it allocates (`plan_curvature`) and
refuses, naming the need and the option that fits, when the budget (default: half the
memory available) is too small.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
import scipy.linalg.blas
import scipy.linalg.lapack

from mislabel.checks import MemoryBudgetError
from mislabel.network.precision import float64
from mislabel.settings import HEAD_CURVATURES
from mislabel.stopwatch import progress_line

CHOLESKY_MARGIN = 10.0  # how far above the pseudo-inverse's cut Cholesky is trusted
LANCZOS_STEPS = 40  # steps of the eigenvalue estimates that check it
EXACT_MAX_WORK = 1e12  # multiply-adds of the exact path that `auto` accepts
CHUNK_BYTES = 64 * 2**20  # the working set of one chunk of samples
GiB = 2**30


class CurvaturePlan(NamedTuple):
    """The curvature a head's scores use and what it will cost, known before any work."""

    kind: str  # "exact" or "ekfac"
    need_bytes: int
    budget_bytes: int
    chunk: int


def available_bytes() -> int:
    """The memory this machine has available now (MemAvailable), else its physical size."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def default_budget() -> int:
    """Half the memory available: the default `memory_budget`."""
    return available_bytes() // 2


def chunk_size(rows: int, n_classes: int, kind: str) -> int:
    """Samples per chunk, so that one chunk's float64 working set stays near CHUNK_BYTES
    (`rows`: D+1 with the bias as a parameter, else D)."""
    return int(max(16, min(8192, CHUNK_BYTES // _per_sample(rows, n_classes, kind))))


def _per_sample(rows: int, c: int, kind: str) -> int:
    return 8 * (4 * rows + 6 * c + (rows * c if kind == "exact" else rows))


def need_bytes(n: int, rows: int, n_classes: int, kind: str) -> int:
    """Estimated peak bytes of the scores on top of the inputs: the curvature, its
    eigendecomposition (LAPACK's workspace included) and one chunk's working set."""
    c, p = n_classes, rows * n_classes
    if kind == "exact":
        matrices = 8 * 4 * p * p  # H, its eigenvectors, the scaled eigenvectors, workspace
    else:
        matrices = 8 * (4 * rows * rows + 4 * c * c + 6 * rows * c)
    chunk = chunk_size(rows, c, kind)
    return int(matrices + 2 * chunk * _per_sample(rows, c, kind) + 8 * 3 * n)


def plan_curvature(
    n: int, rows: int, n_classes: int, kind: str = "auto", budget_bytes: int | None = None
) -> CurvaturePlan:
    """The curvature (`HEAD_CURVATURES`) for a head of P = rows x n_classes parameters and
    n samples, checked against the budget (default: `default_budget`).

    Raises:
      ValueError: an unknown kind.
      MemoryBudgetError: the chosen kind needs more than `budget_bytes`; the message names the
        need, the budget, and the kind (or budget) that fits.
    """
    if kind not in HEAD_CURVATURES:
        raise ValueError(f"unknown head curvature {kind!r}; allowed: {', '.join(HEAD_CURVATURES)}")
    budget = int(default_budget() if budget_bytes is None else budget_bytes)
    exact_need = need_bytes(n, rows, n_classes, "exact")
    ekfac_need = need_bytes(n, rows, n_classes, "ekfac")
    p = rows * n_classes
    if kind == "auto":
        cheap = n * p**2 + p**3 <= EXACT_MAX_WORK
        kind = "exact" if exact_need <= budget and cheap else "ekfac"
    need = exact_need if kind == "exact" else ekfac_need
    if need > budget:
        if kind == "exact" and ekfac_need <= budget:
            fix = f"--head-curvature ekfac needs {gib(ekfac_need)} and fits"
        else:
            fix = f"a --memory-budget of at least {gib(need)} fits, if the machine has it"
        raise MemoryBudgetError(
            f"{kind} curvature of a head with P = {p:,} parameters and N = {n:,} samples needs "
            f"about {gib(need)}, more than the memory budget of {gib(budget)}: {fix}"
        )
    return CurvaturePlan(kind, need, budget, chunk_size(rows, n_classes, kind))


def gib(n_bytes: int) -> str:
    """Bytes in GiB, for messages."""
    return f"{n_bytes / GiB:.2f} GiB"


class Progress:
    """Progress of a pass over the samples on `log`, at most every `every` seconds, with the
    time left; silent when `log` is None."""

    def __init__(self, what: str, total: int, log: Callable[[str], None] | None, every=5.0):
        self.what, self.total, self.log, self.every = what, total, log, every
        self.start = self.last = time.perf_counter()

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if self.log is None or (now - self.last < self.every and done < self.total):
            return
        self.last = now
        self.log(progress_line(self.what, done, self.total, now - self.start, "samples"))


def _padded(x_NxD, y_N, start: int, stop: int, chunk: int, bias: bool, weights_N=None):
    """Rows start:stop as float64/int32 device arrays padded to `chunk` rows (the features
    with a column of ones when the bias is a parameter), and their weights (`weights_N`,
    default 1, for real rows; 0 for padding), so every chunk compiles once."""
    d = x_NxD.shape[1]
    xt = np.zeros((chunk, d + 1 if bias else d), np.float64)
    y = np.zeros(chunk, np.int32)
    w = np.zeros(chunk, np.float64)
    rows = stop - start
    xt[:rows, :d], y[:rows] = x_NxD[start:stop], y_N[start:stop]
    w[:rows] = 1.0 if weights_N is None else weights_N[start:stop]
    if bias:
        xt[:rows, d] = 1.0
    return jnp.asarray(xt), jnp.asarray(y), jnp.asarray(w)


@jax.jit
def _delta(theta, b0, xt_BxR, y_B, w_B):
    """Probabilities and weighted ``p - e_y`` of a chunk; logits ``xt theta + b0``."""
    p_BxC = jax.nn.softmax(xt_BxR @ theta + b0, axis=1)
    return p_BxC, w_B[:, None] * (p_BxC - jax.nn.one_hot(y_B, p_BxC.shape[1], dtype=p_BxC.dtype))


class _Head(NamedTuple):
    """The parameters scored (R = D+1 rows with the bias, else D), the fixed bias, the data."""

    theta: jax.Array
    b0: jax.Array
    x_NxD: np.ndarray
    y_N: np.ndarray
    bias: bool
    weights_N: np.ndarray | None = None  # None: every sample weighs 1

    def chunks(self, chunk: int):
        for start in range(0, len(self.y_N), chunk):
            stop = min(start + chunk, len(self.y_N))
            args = (self.x_NxD, self.y_N, start, stop, chunk, self.bias, self.weights_N)
            yield start, stop, _padded(*args)

    def total_weight(self) -> float:
        return float(len(self.y_N) if self.weights_N is None else np.sum(self.weights_N))


def _head(W_DxC, b_C, x_NxD, y_N, bias: bool, weights_N=None) -> _Head:
    W = np.asarray(W_DxC, np.float64)
    b = np.asarray(b_C, np.float64)
    theta = np.vstack([W, b[None, :]]) if bias else W
    b0 = np.zeros_like(b) if bias else b
    y = np.asarray(y_N, np.int32)
    return _Head(jnp.asarray(theta), jnp.asarray(b0), x_NxD, y, bias, weights_N)


def _mean_gradient(head: _Head, chunk: int, progress: Progress) -> jax.Array:
    """``mean_i grad L(z_i)`` over theta, shape (R, C), in chunks."""
    total = jnp.zeros(head.theta.shape, jnp.float64)
    for _, stop, (xt, y, w) in head.chunks(chunk):
        total = total + xt.T @ _delta(head.theta, head.b0, xt, y, w)[1]
        progress.update(stop)
    return total / len(head.y_N)


def _inverse_scale(eigvals, damping: float, pinv_rtol: float):
    """(kept, 1 / eigenvalue or 0): ``(lambda + damping)^-1``, or the pseudo-inverse."""
    eigvals = jnp.asarray(eigvals)
    if damping > 0:
        keep = eigvals + damping > 0
        return keep, jnp.where(keep, 1.0 / jnp.where(keep, eigvals + damping, 1.0), 0.0)
    keep = eigvals > pinv_rtol * jnp.max(jnp.abs(eigvals))
    return keep, jnp.where(keep, 1.0 / jnp.where(keep, eigvals, 1.0), 0.0)


def _score_pass(head: _Head, chunk: int, what: str, log, score_chunk) -> tuple:
    """(if_self, if_train) of every sample, chunk by chunk."""
    n = len(head.y_N)
    self_N, train_N = np.empty(n), np.empty(n)
    progress = Progress(what, n, log)
    for start, stop, args in head.chunks(chunk):
        s, t = score_chunk(*args)
        self_N[start:stop] = np.asarray(s)[: stop - start]
        train_N[start:stop] = np.asarray(t)[: stop - start]
        progress.update(stop)
    return self_N, train_N


# ----- exact ---------------------------------------------------------------------------


def class_basis(c: int, damping: float) -> np.ndarray:
    """(C, K) orthonormal columns the exact path works in: all C classes when damped
    (``K = C``); without damping, a basis of the vectors orthogonal to ``1_C`` (``K = C-1``),
    because adding one vector to every class column leaves the softmax unchanged: those
    R directions are H's exact null space, which the pseudo-inverse drops."""
    if damping > 0:
        return np.eye(c)
    return scipy.linalg.null_space(np.ones((1, c)))


@jax.jit
def _hessian_parts(theta, b0, Q_CxK, xt_BxR, y_B, w_B):
    """This chunk's parts of ``sum_i kron(x~_i x~_i^T, Q^T Lambda_i Q)``: the sums
    ``sum_i p_ic x~ x~^T`` per class (R, R, C) and ``Z = x~ (x) Q^T p`` (B, P'), whose
    ``Z^T Z`` is subtracted (by a symmetric rank-B update, half the work of a product)."""
    p_BxC, _ = _delta(theta, b0, xt_BxR, y_B, w_B)
    diag_RxRxC = jnp.einsum("br,bs,bc->rsc", xt_BxR, xt_BxR, p_BxC * w_B[:, None])
    q_BxK = p_BxC @ Q_CxK
    z_BxP = (jnp.sqrt(w_B)[:, None, None] * xt_BxR[:, :, None] * q_BxK[:, None, :]).reshape(
        xt_BxR.shape[0], -1
    )
    return diag_RxRxC, z_BxP


@jax.jit
def _projected_gradients(theta, b0, Q_CxK, xt_BxR, y_B, w_B):
    """A chunk's gradients in the class basis, ``x~_i (x) Q^T delta_i``, shape (B, P')."""
    _, delta_BxC = _delta(theta, b0, xt_BxR, y_B, w_B)
    q_BxK = delta_BxC @ Q_CxK
    return (xt_BxR[:, :, None] * q_BxK[:, None, :]).reshape(xt_BxR.shape[0], -1)


def _exact_hessian(head: _Head, Q_CxK: np.ndarray, chunk: int, log) -> np.ndarray:
    """The mean Hessian in the class basis, ``(I_R (x) Q)^T H (I_R (x) Q)``, shape (P', P')
    with ``P' = R K``, float64 in Fortran order; only its upper triangle is filled (BLAS's
    symmetric rank-k update), which is what Cholesky and the eigendecomposition read."""
    n, r, k = len(head.y_N), head.theta.shape[0], Q_CxK.shape[1]
    Q = jnp.asarray(Q_CxK)
    progress = Progress("exact curvature: Hessian", n, log)
    hess = np.zeros((r * k, r * k), order="F")
    diag = np.zeros((r, r, Q_CxK.shape[0]))
    for _, stop, args in head.chunks(chunk):
        d, z = _hessian_parts(head.theta, head.b0, Q, *args)
        diag += np.asarray(d)
        hess = scipy.linalg.blas.dsyrk(
            -1.0, np.asarray(z), beta=1.0, c=hess, trans=1, overwrite_c=1
        )
        progress.update(stop)
    # parameter (row, k) has index row K + k: in Fortran order, axes (k, row, k', row')
    square = hess.reshape(k, r, k, r, order="F")
    square += np.einsum("rsc,ck,cl->krls", diag, Q_CxK, Q_CxK, optimize=True)
    hess /= n
    return hess


def _lanczos_top(matvec, p: int, steps: int = LANCZOS_STEPS) -> float:
    """The largest Ritz value of `steps` plain Lanczos steps on a symmetric positive
    definite operator (from a fixed random start): never above its largest eigenvalue, and
    within a small factor of it unless the start is nearly orthogonal to the top of the
    spectrum (with 40 steps, a weight below about 1e-20 there)."""
    v = np.random.default_rng(0).standard_normal(p)
    v /= np.linalg.norm(v)
    v_prev, beta = np.zeros(p), 0.0
    alphas, betas = [], []
    for _ in range(min(steps, p)):
        w = matvec(v) - beta * v_prev
        alpha = float(v @ w)
        w -= alpha * v
        alphas.append(alpha)
        beta = float(np.linalg.norm(w))
        if beta <= 1e-14 * abs(alpha):  # an invariant subspace: the Ritz values are exact
            break
        betas.append(beta)
        v_prev, v = v, w / beta
    offdiag = np.asarray(betas[: len(alphas) - 1])
    return float(scipy.linalg.eigvalsh_tridiagonal(np.asarray(alphas), offdiag)[-1])


def _extreme_eigenvalues(upper: np.ndarray) -> tuple[float, float]:
    """(largest, smallest) eigenvalue of ``U^T U`` from its upper Cholesky factor U, by
    Lanczos on the matrix and on its inverse (each product two triangular passes). The
    estimates err inwards: the largest from below, the smallest from above."""
    blas = scipy.linalg.blas

    def forward(v):
        return blas.dtrmv(upper, blas.dtrmv(upper, v), trans=1)

    def inverse(v):
        return blas.dtrsv(upper, blas.dtrsv(upper, v, trans=1))

    p = upper.shape[0]
    return _lanczos_top(forward, p), 1.0 / _lanczos_top(inverse, p)


def _cholesky(hess: np.ndarray, damping: float, pinv_rtol: float, log):
    """The upper Cholesky factor of ``hess + damping I`` and its extreme eigenvalues, or None
    when the inverse is not the one asked for: hess not positive definite, or (no damping)
    an eigenvalue the pseudo-inverse would drop, within a factor CHOLESKY_MARGIN."""
    shifted = hess.copy(order="F")
    shifted[np.diag_indices_from(shifted)] += damping
    upper, failed = scipy.linalg.lapack.dpotrf(shifted, lower=0, overwrite_a=1, clean=1)
    if failed:
        return None
    largest, smallest = _extreme_eigenvalues(upper)
    if damping == 0 and smallest <= CHOLESKY_MARGIN * pinv_rtol * largest:
        if log:
            log(
                f"exact curvature: condition {largest / smallest:.3g} is near the "
                f"pseudo-inverse's cut ({pinv_rtol:g}); using the eigendecomposition"
            )
        return None
    return upper, largest - damping, smallest - damping


def _eigen_inverse_root(hess: np.ndarray, damping: float, pinv_rtol: float):
    """M with ``M M^T`` the (pseudo-)inverse of hess, from its eigendecomposition."""
    eigvals, eigvecs = scipy.linalg.eigh(
        hess, lower=False, overwrite_a=True, check_finite=False, driver="evr"
    )
    keep, scale = (np.asarray(a) for a in _inverse_scale(eigvals, damping, pinv_rtol))
    first = len(keep) - int(keep.sum())  # eigenvalues ascend, so the kept ones trail
    if not keep[first:].all():
        raise AssertionError("kept eigenvalues must be the largest")
    eigvecs = eigvecs[:, first:]
    eigvecs *= np.sqrt(scale[first:])[None, :]
    kept = eigvals[first:]
    return eigvecs, float(eigvals[-1]), float(kept[0]) if len(kept) else float("nan")


def _exact_scores(head: _Head, damping: float, pinv_rtol: float, chunk: int, log):
    n, c = len(head.y_N), head.theta.shape[1]
    Q_CxK = class_basis(c, damping)
    Q = jnp.asarray(Q_CxK)
    hess = _exact_hessian(head, Q_CxK, chunk, log)
    g_mean = np.asarray(_mean_gradient(head, chunk, Progress("mean gradient", n, log)) @ Q)
    g_mean = g_mean.reshape(-1)
    factor = _cholesky(hess, damping, pinv_rtol, log)
    if factor is not None:
        del hess
        upper, largest, smallest = factor
        solve = "cholesky"
        if log:
            log(
                f"exact curvature: Cholesky of {upper.shape[0]:,} x {upper.shape[0]:,}, "
                f"eigenvalues {smallest:.3g} to {largest:.3g}"
            )
        rank = upper.shape[0]
        u_D = scipy.linalg.solve_triangular(upper, g_mean, trans=1, check_finite=False)

        def whiten(g_BxP):  # U^-T g for every row: ||.||^2 = g^T (H + damping)^-1 g
            return scipy.linalg.solve_triangular(upper, g_BxP.T, trans=1, check_finite=False).T

    else:
        solve = "eigh"
        if log:
            log(
                f"exact curvature: eigendecomposition of {hess.shape[0]:,} x {hess.shape[0]:,} "
                "(one LAPACK call, which reports nothing until it ends)"
            )
        M, largest, smallest = _eigen_inverse_root(hess, damping, pinv_rtol)
        rank = M.shape[1]
        u_D = g_mean @ M

        def whiten(g_BxP):
            return g_BxP @ M

    def score_chunk(*args):
        z_BxK = whiten(np.asarray(_projected_gradients(head.theta, head.b0, Q, *args)))
        return np.einsum("bk,bk->b", z_BxK, z_BxK), z_BxK @ u_D

    scores = _score_pass(head, chunk, "exact curvature: scores", log, score_chunk)
    info = {
        "solve": solve,
        "rank": int(rank),
        "max_eigenvalue": largest,
        "min_kept_eigenvalue": smallest,
    }
    return *scores, info


# ----- EK-FAC --------------------------------------------------------------------------


@jax.jit
def _factors_chunk(theta, b0, xt_BxR, y_B, w_B):
    """This chunk's sums of ``x~ x~^T`` and ``Lambda_i`` (padding weighted 0)."""
    p_BxC, _ = _delta(theta, b0, xt_BxR, y_B, w_B)
    xw_BxR = xt_BxR * jnp.sqrt(w_B)[:, None]
    pw_BxC = p_BxC * w_B[:, None]
    return xw_BxR.T @ xw_BxR, jnp.diag(jnp.sum(pw_BxC, axis=0)) - pw_BxC.T @ p_BxC


@jax.jit
def _corrected_chunk(theta, b0, QA, QS, xt_BxR, y_B, w_B):
    """This chunk's sum of ``(q_A,j . x~_i)^2 q_S,k^T Lambda_i q_S,k``, shape (R, C)."""
    p_BxC, _ = _delta(theta, b0, xt_BxR, y_B, w_B)
    u_BxR = xt_BxR @ QA
    lam_BxC = (p_BxC @ QS**2 - (p_BxC @ QS) ** 2) * w_B[:, None]
    return (u_BxR**2).T @ lam_BxC


@jax.jit
def _ekfac_chunk(theta, b0, QA, QS, inv_RxC, gD_RxC, xt_BxR, y_B, w_B):
    """(if_self, if_train) of one chunk in the Kronecker eigenbasis: a gradient's
    coordinates there are the outer product of ``Q_A^T x~`` and ``Q_S^T delta``."""
    _, delta_BxC = _delta(theta, b0, xt_BxR, y_B, w_B)
    u_BxR = xt_BxR @ QA
    v_BxC = delta_BxC @ QS
    self_B = jnp.sum(((u_BxR**2) @ inv_RxC) * v_BxC**2, axis=1)
    train_B = jnp.sum((u_BxR @ (gD_RxC * inv_RxC)) * v_BxC, axis=1)
    return self_B, train_B


def _ekfac_basis(head: _Head, chunk: int, log) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(Q_A, Q_S, corrected eigenvalues (R, C)) of the head's EK-FAC curvature."""
    n, (r, c) = len(head.y_N), head.theta.shape
    A, S = jnp.zeros((r, r), jnp.float64), jnp.zeros((c, c), jnp.float64)
    progress = Progress("EK-FAC: Kronecker factors", n, log)
    for _, stop, args in head.chunks(chunk):
        a, s = _factors_chunk(head.theta, head.b0, *args)
        A, S = A + a, S + s
        progress.update(stop)
    total = head.total_weight()
    _, QA = jnp.linalg.eigh(A / total)
    _, QS = jnp.linalg.eigh(S / total)
    lam = jnp.zeros((r, c), jnp.float64)
    progress = Progress("EK-FAC: eigenvalue correction", n, log)
    for _, stop, args in head.chunks(chunk):
        lam = lam + _corrected_chunk(head.theta, head.b0, QA, QS, *args)
        progress.update(stop)
    return QA, QS, lam / total


def _ekfac_scores(head: _Head, damping: float, pinv_rtol: float, chunk: int, log):
    n = len(head.y_N)
    QA, QS, lam = _ekfac_basis(head, chunk, log)
    keep, inv = _inverse_scale(lam, damping, pinv_rtol)
    gD = QA.T @ _mean_gradient(head, chunk, Progress("mean gradient", n, log)) @ QS
    scores = _score_pass(
        head,
        chunk,
        "EK-FAC: scores",
        log,
        lambda *args: _ekfac_chunk(head.theta, head.b0, QA, QS, inv, gD, *args),
    )
    info = {
        "rank": int(np.sum(np.asarray(keep))),
        "max_eigenvalue": float(jnp.max(lam)),
        "min_eigenvalue": float(jnp.min(lam)),
    }
    return *scores, info


def ekfac_eigenbasis(W_DxC, b_C, x_NxD, y_N, *, bias: bool = True) -> tuple[np.ndarray, ...]:
    """(Q_A, Q_S, corrected eigenvalues (R, C)) of a head's EK-FAC curvature, as NumPy."""
    with float64():
        head = _head(W_DxC, b_C, np.asarray(x_NxD), y_N, bias)
        return tuple(np.asarray(a) for a in _ekfac_basis(head, max(len(head.y_N), 1), None))


def head_influence_scores(
    W_DxC,
    b_C,
    x_NxD,
    y_N,
    *,
    bias: bool = True,
    kind: str = "auto",
    damping: float = 0.0,
    pinv_rtol: float = 1e-10,
    budget_bytes: int | None = None,
    chunk: int | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[dict[str, np.ndarray], dict]:
    """``if_self``, ``if_train`` and ``if_train_minus_z`` of every sample of a softmax head,
    as `mislabel.detectors.influence` defines them, with the mean Hessian of the head.

    Args:
      W_DxC, b_C: the head; x_NxD, y_N: its training features and labels (as given).
      bias: the bias is a parameter of the curvature (P = (D+1) C); False: the kernel only
        (P = D C, the paper's last layer), the bias held fixed.
      kind: ``auto``, ``exact`` or ``ekfac`` (module docstring); `plan_curvature` checks
        the memory budget before any work.
      damping, pinv_rtol: ``(H + damping I)^-1``, or with damping 0 the pseudo-inverse
        dropping eigenvalues at most ``pinv_rtol`` times the largest.
      chunk: samples per chunk (default: `chunk_size`); the scores do not depend on it.
      log: where progress goes (None: silent).
    Returns:
      ({detector: scores (N,)}, info: the curvature used, its rank and eigenvalue range,
      the memory estimate and budget).
    """
    x, y = np.asarray(x_NxD), np.asarray(y_N)
    W, b = np.asarray(W_DxC), np.asarray(b_C)
    n = len(y) if y.ndim == 1 else -1
    if x.ndim != 2 or W.shape[:1] != x.shape[1:] or b.shape != W.shape[1:] or n != len(x) or n < 2:
        raise ValueError(
            f"a head W {W.shape}, b {b.shape} needs features (N, D) and labels (N,) with "
            f"N >= 2; got {x.shape} and {y.shape}"
        )
    plan = plan_curvature(n, x.shape[1] + bool(bias), W.shape[1], kind, budget_bytes)
    run = _exact_scores if plan.kind == "exact" else _ekfac_scores
    with float64():
        head = _head(W, b, x, y, bias)
        self_N, train_N, info = run(head, damping, pinv_rtol, int(chunk or plan.chunk), log)
    scores = {
        "if_self": self_N,
        "if_train": train_N,
        "if_train_minus_z": (n * train_N - self_N) / (n - 1),
    }
    facts = {
        "curvature": plan.kind,
        **info,
        "damping": float(damping),
        "memory_estimate_gib": round(plan.need_bytes / GiB, 3),
        "memory_budget_gib": round(plan.budget_bytes / GiB, 3),
    }
    return scores, facts
