"""Every shared input check and the numerical errors (NumPy only, no JAX).

A check raises a ValueError that says what was wrong and how to fix it, before any work
starts; the numerical errors mark results that are NaN/Inf or a Hessian that a damped
solve cannot invert. Checks used by one module only live in that module.
"""

from __future__ import annotations

import numpy as np


class NumericalError(RuntimeError):
    """A Hessian, gradient, score or update contains NaN or Inf."""


class IndefiniteHessianError(NumericalError, ValueError):
    """``H + damping I`` is not positive definite where a damped solve needs it to be.

    A `ValueError` too: the remedy is a setting (raise the damping), as for the other
    refused dampings (`check_lowrank_damping`).
    """


# The noise ratios r every command takes (and a repair flags round(n r) of n samples):
# beyond one half the flagged samples would outnumber the rest.
RATIO_RANGE = (0.0, 0.5)


class MemoryBudgetError(ValueError):
    """The work would not fit the memory budget; the message names the need and the fix."""


def check_ratio(ratio: float | None, what: str = "ratio") -> None:
    """Raise a ValueError unless `ratio` is None or lies in `RATIO_RANGE`."""
    low, high = RATIO_RANGE
    if ratio is not None and not low <= ratio <= high:
        raise ValueError(f"{what} must be in [{low:g}, {high:g}], got {ratio}")


def check_name(name: str, allowed: tuple[str, ...], what: str) -> None:
    """Raise a ValueError naming the allowed values if `name` is not one of them."""
    if name not in allowed:
        raise ValueError(f"unknown {what} {name!r}; allowed: {', '.join(allowed)}")


def check_finite(values: np.ndarray, what: str) -> None:
    """Raise NumericalError naming `what` and the offending positions if not all finite."""
    values = np.asarray(values)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise NumericalError(
            f"{what} contain {bad.size} NaN/Inf values (first at indices {bad[:5].tolist()}: "
            f"{values.reshape(-1)[bad[:5]].tolist()}); the model or its curvature is degenerate"
        )


def check_damping(damping: float) -> None:
    """Raise a ValueError for negative damping."""
    if damping < 0:
        raise ValueError(f"damping must be >= 0, got {damping}")


def check_lowrank_damping(eigvals_K: np.ndarray, damping: float) -> None:
    """Raise a ValueError if some eigenvalue lambda has ``lambda + damping <= 0``.

    ``1 / (lambda + damping)`` then changes sign (or is infinite): the damped inverse is no
    longer positive on that eigenvector and the influence scores flip sign along it.
    """
    eigvals_K = np.asarray(eigvals_K, np.float64)
    bad = eigvals_K[eigvals_K + damping <= 0]
    if bad.size:
        worst = float(bad.min())
        raise ValueError(
            f"{bad.size} eigenvalue(s) of the full-network Hessian lie at or below "
            f"-full_damping = {-damping:g} (most negative {worst:.6g}), so 1/(lambda + "
            f"damping) changes sign; raise full_damping above {-worst:.6g}"
        )


def check_labels(y_N: np.ndarray, n: int, n_classes: int) -> np.ndarray:
    """Validate `n` integer labels in 0..n_classes-1; return them as int32 (N,)."""
    y_N = np.asarray(y_N)
    if int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes}")
    if y_N.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {y_N.shape}")
    if n and not np.issubdtype(y_N.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {y_N.dtype}")
    if n and (y_N.min() < 0 or y_N.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1}, found range {y_N.min()}..{y_N.max()}"
        )
    return y_N.astype(np.int32)


def check_labeled(
    x_NxD: np.ndarray, y_N: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a labelled training set; return (x float32 (N, D), y int32 (N,))."""
    x_NxD = np.asarray(x_NxD)
    if x_NxD.ndim != 2:
        raise ValueError(f"x must be 2-D (N, D), got shape {x_NxD.shape}")
    y_N = check_labels(y_N, x_NxD.shape[0], n_classes)
    if not np.all(np.isfinite(x_NxD)):
        raise ValueError("x contains NaN or Inf")
    return x_NxD.astype(np.float32), y_N


def check_mask(mask_N, n: int, name: str) -> np.ndarray:
    """A boolean mask of shape (n,) as a NumPy array, or a clear ValueError."""
    mask_N = np.asarray(mask_N)
    if mask_N.dtype != bool or mask_N.shape != (n,):
        raise ValueError(
            f"{name} mask must be boolean of shape ({n},), got {mask_N.dtype} {mask_N.shape}"
        )
    return mask_N


def check_forget(forget_N: np.ndarray, n: int) -> np.ndarray:
    """Validate a boolean forget mask of length n that leaves at least one sample."""
    forget_N = check_mask(forget_N, n, "forget")
    if forget_N.all():
        raise ValueError("the forget set is the whole training set; nothing would remain")
    return forget_N


def check_epochs(epochs: int) -> int:
    """Raise a ValueError unless `epochs` is an integer >= 1."""
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    return int(epochs)
