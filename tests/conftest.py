"""Shared fixtures: tiny synthetic problems with known structure."""

from __future__ import annotations

import numpy as np
import pytest


def blobs(n: int, d: int, seed: int, sep: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping Gaussian classes in [0, 1]^d-ish, labels 0/1 (n,)."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(np.int32)
    centers = np.stack([np.full(d, -sep / 2), np.full(d, sep / 2)])
    x = centers[y] + rng.normal(size=(n, d))
    return x.astype(np.float64), y


@pytest.fixture
def tiny_blobs():
    return blobs(200, 3, seed=0)
