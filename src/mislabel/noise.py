"""Synthetic label noise: flip training labels to another class, reproducibly."""

from __future__ import annotations

import math

import numpy as np

NOISE_MODES = ("symmetric", "exact")
NOISE_POSITIONS = ("random", "first")


def _check_args(
    labels: np.ndarray, n_classes: int, ratio: float, mode: str, positions: str
) -> np.ndarray:
    """Validate the arguments of `inject_noise`; return `labels` as an int64 array (n,)."""
    if mode not in NOISE_MODES:
        raise ValueError(f"unknown noise mode {mode!r}; choose one of {list(NOISE_MODES)}")
    if positions not in NOISE_POSITIONS:
        raise ValueError(
            f"unknown noise positions {positions!r}; choose one of {list(NOISE_POSITIONS)}"
        )
    if positions == "first" and mode != "exact":
        raise ValueError(
            f"noise positions 'first' need noise mode 'exact' (a fixed count per class), "
            f"got mode {mode!r}; use mode 'exact' or positions 'random'"
        )
    if int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes}")
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"noise ratio must satisfy 0 <= ratio < 1, got {ratio}")
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D (n,), got shape {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1} for n_classes={n_classes}, "
            f"found range {y.min()}..{y.max()}"
        )
    return y.astype(np.int64)


def _other_class(y: np.ndarray, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """For each label (k,), a uniformly chosen class different from it (k,)."""
    return (y + rng.integers(1, n_classes, size=y.shape)) % n_classes


def n_flips(ratio: float, n: int) -> int:
    """round(ratio * n) with halves rounded up (not to even): the flips of a class of `n`
    samples under mode "exact", and the detection budget m of the paper."""
    return int(math.floor(ratio * n + 0.5))


def inject_noise(
    labels: np.ndarray,
    n_classes: int,
    ratio: float,
    mode: str = "symmetric",
    seed: int = 0,
    positions: str = "random",
) -> tuple[np.ndarray, np.ndarray]:
    """Flip labels to a uniformly chosen other class.

    Args:
      labels: clean labels (n,), integers in 0..n_classes-1.
      n_classes: number of classes C >= 2.
      ratio: noise ratio r, 0 <= r < 1.
      mode: "symmetric": each label flipped independently with probability r;
        "exact": exactly round(r * n_c) labels of each class c flipped.
      seed: seed of np.random.default_rng; same seed, same result.
      positions: which samples of a class mode "exact" flips: "random" (a uniform choice)
        or "first" (its first round(r * n_c) samples in dataset order, as the paper's
        authors' code does).

    Returns:
      (noisy (n,) int32, flipped (n,) bool) with flipped == (noisy != labels).
    """
    y = _check_args(labels, n_classes, ratio, mode, positions)
    n_classes = int(n_classes)
    rng = np.random.default_rng(seed)
    if mode == "symmetric":
        flipped = rng.random(y.shape) < ratio
    else:
        flipped = np.zeros(y.shape, dtype=bool)
        for c in range(n_classes):
            idx = np.flatnonzero(y == c)
            k = n_flips(ratio, len(idx))
            flipped[idx[:k] if positions == "first" else rng.choice(idx, k, replace=False)] = True
    noisy = y.copy()
    noisy[flipped] = _other_class(y[flipped], n_classes, rng)
    return noisy.astype(np.int32), flipped


def flip_class_dependent(
    labels: np.ndarray, ratio: float, shift: int = 1, seed: int = 0
) -> np.ndarray:
    """Class-dependent noise with a fixed transition: each label y flips, with probability
    `ratio`, to class (y + shift) mod C (C = labels.max() + 1). Returns the noisy labels."""
    y = np.asarray(labels, np.int64)
    c = int(y.max()) + 1
    flip = np.random.default_rng(seed).random(y.shape) < ratio
    return np.where(flip, (y + shift) % c, y)


def flip_instance_dependent(
    labels: np.ndarray, probs_NxC: np.ndarray, ratio: float, temperature: float = 0.3, seed: int = 0
) -> np.ndarray:
    """Instance-dependent noise: round(N ratio) samples, drawn without replacement with
    weight exp(-margin / temperature) (margin = p(label) - the best other p, from a model
    of the clean labels), flip to that best other class, the model's second choice."""
    y = np.asarray(labels, np.int64)
    n = len(y)
    others_NxC = np.array(probs_NxC, np.float64)
    p_y = others_NxC[np.arange(n), y].copy()
    others_NxC[np.arange(n), y] = -np.inf
    weight_N = np.exp(-(p_y - others_NxC.max(axis=1)) / temperature)
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, n_flips(ratio, n), replace=False, p=weight_N / weight_N.sum())
    noisy = y.copy()
    noisy[idx] = others_NxC.argmax(axis=1)[idx]
    return noisy
