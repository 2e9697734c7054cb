"""Newton steps on a softmax head (W and b), damped, with the damping on a relative scale.

A damping is given relative to the mean eigenvalue ``tau = tr(H) / P`` of the Hessian it
damps, so one grid fits heads of any feature scale (`mislabel.settings.RepairSettings`
holds the grid; the repair picks from it on held-out data, `mislabel.repair.crossfit`).

- `forget_steps`: the closed-form unlearners on a head, one candidate per damping:
  ``influence``: ``Wb + (1/n) (H + lambda I)^-1 sum_forget grad L``, H over all n samples;
  ``ssse``: ``Wb + 1/(n-m) (H_rem + lambda I)^-1 sum_forget grad L``, H over the n - m kept.
- `remove_samples`: the head as if trained without some samples (cross-validation without
  the user's training code). The head is taken as the minimiser of the mean loss plus a
  regulariser whose gradient at the head is minus the mean gradient g (so the head is
  stationary) and whose curvature is ``lambda I``; without the samples R kept, that
  objective is ``F_R(t) = mean_R L(t) - g . (t - Wb) + (lambda / 2) ||t - Wb||^2``, minimised
  by Newton's method with a backtracking line search. Its first step is the classic
  approximate-cross-validation step ``(1/n_R) (H_R + lambda I)^-1 sum_removed (grad L - g)``;
  for a ridge head (scikit-learn's) F_R is exactly the refit's objective, the bias aside.
  lambda is the head's implied ridge (`implied_ridge`), floored.

Both solve with the head's dense Hessian where it fits the memory budget and costs less
(`dense_is_cheaper`: small heads), else by conjugate gradients on exact Hessian-vector
products, preconditioned by EK-FAC (`mislabel.curvature.head_solve.HeadSystem`): the same
steps. The closed-form steps solve to a relative residual of 1e-10, largest damping first,
each solve starting from the previous one's solution; the removal's Newton steps solve
inexactly, to a residual of ``min(1e-2, ||grad|| / ||grad_0||)`` times the gradient (at
least 1e-10), which keeps Newton's fast convergence, and stop as the dense ones do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.linalg

from mislabel.checks import NumericalError
from mislabel.curvature import softmax_head as head
from mislabel.curvature.head import default_budget
from mislabel.curvature.head_solve import HeadSystem

NEWTON_UNLEARNERS = ("influence", "ssse")
DENSE_BYTES = 3 * 8  # per Hessian entry: the Hessian, its eigenvectors or factor, a workspace
CG_ITERATIONS = 50  # a typical preconditioned solve of a head (the cost model)
FORCING_FLOOR = 1e-8  # the tightest relative residual of a removal's Newton step
_log = logging.getLogger(__name__).info


def dense_fits(n_params: int, budget_bytes: int | None = None) -> bool:
    """Whether the dense (P, P) Hessian of a head with `n_params` parameters fits the
    budget (None: half the memory available)."""
    budget = default_budget() if budget_bytes is None else budget_bytes
    return DENSE_BYTES * n_params**2 <= budget


def dense_is_cheaper(n: int, n_params: int, solves: int, budget_bytes: int | None = None) -> bool:
    """Whether the dense Hessian fits the budget and building and factoring it (about
    ``N P^2 + 10 P^3`` multiply-adds) costs less than `solves` conjugate-gradient solves of
    about `CG_ITERATIONS` Hessian-vector products (``4 N P`` each)."""
    if not dense_fits(n_params, budget_bytes):
        return False
    return n * n_params**2 + 10 * n_params**3 <= solves * CG_ITERATIONS * 4 * n * n_params


def _system(Wb, x_NxD, y_N, weights_N) -> HeadSystem:
    Wb = np.asarray(Wb, np.float64)
    return HeadSystem(Wb[:-1], Wb[-1], x_NxD, y_N, weights_N)


def _solved(system: HeadSystem, rhs_P, damping: float, tol: float, x0=None) -> np.ndarray:
    """``(H + damping I)^-1 rhs`` by `HeadSystem.solve`, flattened as `rhs_P`."""
    shape = (-1, system.n_classes)
    start = None if x0 is None else x0.reshape(shape)
    solution, info = system.solve(rhs_P.reshape(shape), damping, x0=start, tol=tol, log=_log)
    if not info.converged:
        raise NumericalError(
            f"conjugate gradients did not reach a relative residual of {tol:.0e} in "
            f"{info.iterations} iterations ({info.relative_residual:.1e}); raise the damping"
        )
    return solution.reshape(-1)


class Candidate(NamedTuple):
    """A head after one damped Newton step: the relative and absolute damping, the new
    stacked head, and the step's norm relative to the head's."""

    relative_damping: float
    damping: float
    Wb: np.ndarray
    step_norm_relative: float


def forget_steps(
    kind: str,
    Wb_D1xC: np.ndarray,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    forget_N: np.ndarray,
    relative_dampings: Sequence[float],
    budget_bytes: int | None = None,
) -> list[Candidate]:
    """One `Candidate` per relative damping of the ``influence`` or ``ssse`` step (dense
    where `dense_is_cheaper`, else matrix-free)."""
    if kind not in NEWTON_UNLEARNERS:
        raise ValueError(f"unknown Newton step {kind!r}; allowed: {', '.join(NEWTON_UNLEARNERS)}")
    forget_N = np.asarray(forget_N, bool)
    n, m = forget_N.size, int(forget_N.sum())
    if m == n:
        raise ValueError("the forget set is the whole training set; nothing would remain")
    if kind == "influence":
        weights_N, scale = np.full(n, 1.0 / n), 1.0 / n
    else:
        weights_N, scale = (~forget_N) / (n - m), 1.0 / (n - m)
    g_P = head.gradient_sum(Wb_D1xC, x_NxD, y_N, forget_N.astype(np.float64))
    steps = {}
    if not m:
        tau = head.mean_eigenvalue(Wb_D1xC, x_NxD, weights_N)
        steps = {rel: np.zeros_like(g_P) for rel in relative_dampings}
    elif dense_is_cheaper(n, np.size(Wb_D1xC), len(relative_dampings), budget_bytes):
        spec = head.spectrum(Wb_D1xC, x_NxD, weights_N)
        tau = spec.mean_eigenvalue
        steps = {rel: scale * spec.damped_solve(g_P, rel * tau) for rel in relative_dampings}
    else:
        tau = head.mean_eigenvalue(Wb_D1xC, x_NxD, weights_N)
        system, previous = _system(Wb_D1xC, x_NxD, y_N, weights_N), None
        for rel in sorted(set(relative_dampings), reverse=True):  # the easiest solve first
            previous = _solved(system, g_P, rel * tau, 1e-10, x0=previous)
            steps[rel] = scale * previous
    norm = float(np.linalg.norm(Wb_D1xC))
    out = []
    for rel in relative_dampings:
        step_P = steps[rel]
        new = np.asarray(Wb_D1xC, np.float64) + step_P.reshape(np.shape(Wb_D1xC))
        out.append(
            Candidate(float(rel), float(rel * tau), new, float(np.linalg.norm(step_P)) / norm)
        )
    return out


def implied_ridge(Wb_D1xC: np.ndarray, x_NxD: np.ndarray, y_N: np.ndarray) -> tuple[float, float]:
    """The ridge ``lambda`` for which the head is closest to a stationary point of
    ``mean L + (lambda / 2) ||W||^2`` (the bias unpenalised, as scikit-learn's), and the
    relative size of the gradient left over, ``||g + lambda W|| / ||g||`` (0: exactly
    stationary; near 1: the ridge explains none of it)."""
    n = len(y_N)
    g = head.gradient_sum(Wb_D1xC, x_NxD, y_N, np.full(n, 1.0 / n))
    w = np.asarray(Wb_D1xC, np.float64).copy()
    w[-1] = 0.0
    w = w.reshape(-1)
    if not np.any(w):
        return 0.0, 1.0
    lam = -float(g @ w) / float(w @ w)
    norm_g = float(np.linalg.norm(g))
    residual = float(np.linalg.norm(g + lam * w)) / norm_g if norm_g > 0 else 0.0
    return lam, residual


def remove_samples(
    Wb_D1xC: np.ndarray,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    remove_N: np.ndarray,
    damping: float,
    *,
    max_steps: int = 25,
    tol: float = 1e-7,
    budget_bytes: int | None = None,
) -> np.ndarray:
    """The head as if trained without the `remove_N` samples: the minimiser of ``F_R``
    (see the module docstring), Newton steps with a backtracking line search until a step
    moves the head by less than ``tol ||Wb||`` (dense where `dense_is_cheaper`, else
    matrix-free)."""
    if not damping > 0:
        raise ValueError(f"removal needs damping > 0, got {damping}")
    remove_N = np.asarray(remove_N, bool)
    n = remove_N.size
    keep_N = ~remove_N
    n_keep = int(keep_N.sum())
    if n_keep == 0:
        raise ValueError("cannot remove every sample")
    start = np.asarray(Wb_D1xC, np.float64)
    w_keep = keep_N / n_keep
    mean_P = head.gradient_sum(start, x_NxD, y_N, np.full(n, 1.0 / n))

    def objective(theta_P: np.ndarray) -> float:
        moved = theta_P - start.reshape(-1)
        loss = head.loss_sum(theta_P.reshape(start.shape), x_NxD, y_N, w_keep)
        return loss - mean_P @ moved + 0.5 * damping * moved @ moved

    theta = start.reshape(-1).copy()
    value = objective(theta)
    dense = dense_is_cheaper(n, start.size, 5, budget_bytes)  # Newton takes a few steps
    system = None if dense else _system(start, x_NxD, y_N, w_keep)
    first_norm = None
    for _ in range(max_steps):
        current = theta.reshape(start.shape)
        grad = head.gradient_sum(current, x_NxD, y_N, w_keep) - mean_P
        grad += damping * (theta - start.reshape(-1))
        if dense:
            hess = head.dense_hessian(current, x_NxD, w_keep)
            hess[np.diag_indices_from(hess)] += damping
            step = -scipy.linalg.cho_solve(scipy.linalg.cho_factor(hess), grad)
        else:
            grad_norm = float(np.linalg.norm(grad))
            first_norm = first_norm or grad_norm
            forcing = max(FORCING_FLOOR, min(1e-2, grad_norm / first_norm)) if first_norm else 1.0
            step = -_solved(system.at(current[:-1], current[-1]), grad, damping, forcing)
        t = 1.0
        while True:  # Armijo backtracking: F_R is convex, so a short enough step descends
            trial = objective(theta + t * step)
            if trial <= value + 1e-4 * t * (grad @ step) or t < 1e-10:
                break
            t *= 0.5
        theta, value = theta + t * step, trial
        if t * np.linalg.norm(step) <= tol * np.linalg.norm(start):
            break
    return theta.reshape(start.shape)
