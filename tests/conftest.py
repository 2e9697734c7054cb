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


def pytest_collection_modifyitems(items):
    """The Slurm test runs last.

    It installs Slurm when missing. From then on, each start of Snakemake waits up to 10 s:
    its Slurm executor plugin asks `scontrol show config` for the cluster's settings at
    import, and without a running controller `scontrol` retries until it times out. Run
    last, the test makes no other workflow test pay that wait.
    """
    items.sort(key=lambda item: item.path.name == "test_slurm.py")


@pytest.fixture(scope="session", autouse=True)
def shared_jax_cache(tmp_path_factory):
    """One JAX compilation cache for every workflow run of the session.

    Each test workflow lives in its own folder, so by default each would compile every
    program afresh (`mislabel.joblog.use_jax_cache`); an explicit
    JAX_COMPILATION_CACHE_DIR wins there, and compiled programs are identical, so sharing
    changes no result, only the time.
    """
    import os

    previous = os.environ.get("JAX_COMPILATION_CACHE_DIR")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(tmp_path_factory.mktemp("jax_cache"))
    yield
    if previous is None:
        os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)
    else:
        os.environ["JAX_COMPILATION_CACHE_DIR"] = previous
