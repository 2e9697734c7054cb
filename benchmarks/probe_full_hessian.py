"""Smallest and largest eigenvalue of the full-network Hessian of trained paper models.

Run after the default workflow (it reads results/mnist/r{ratio}/s0/):
    .venv/bin/python benchmarks/probe_full_hessian.py
ARPACK (`scipy.sparse.linalg.eigsh`) on the jitted Hessian-vector product gives the
largest (``which="LA"``) and the smallest (``which="SA"``) eigenvalue, to check that
`full_damping` (default 2.0) exceeds |lambda_min|.
"""

import jax.numpy as jnp
import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from mislabel.curvature.full import flatten, full_hvp
from mislabel.data.subset import to_float
from mislabel.files.checkpoint import load_model
from mislabel.files.dataset import load_dataset_file
from mislabel.network.precision import float64, to_float64


def extreme_eigenvalues(ratio: str) -> tuple[float, float, int]:
    """(lambda_max, lambda_min, P) of the mean-loss Hessian of seed 0's model at `ratio`."""
    ds = load_dataset_file(f"results/mnist/r{ratio}/s0/noisy.npz")
    loaded = load_model(f"results/mnist/r{ratio}/s0/model.msgpack")
    with float64():
        params = to_float64(loaded.state.params)
        size = int(flatten(params)[0].size)
        x = jnp.asarray(to_float(ds.x_train), jnp.float64)
        y = jnp.asarray(ds.y_train, jnp.int32)
        w = jnp.full((len(y),), 1 / len(y))

        def matvec(v):
            return np.asarray(full_hvp(loaded.model, params, x, y, w, jnp.asarray(v.ravel())))

        op = LinearOperator((size, size), matvec=matvec, dtype=np.float64)
        v0 = np.random.default_rng(0).normal(size=size)
        lmax = float(eigsh(op, k=1, which="LA", v0=v0, tol=1e-6)[0][0])
        lmin = float(eigsh(op, k=1, which="SA", v0=v0, tol=1e-6)[0][0])
    return lmax, lmin, size


for ratio in ("0.05", "0.3"):
    lmax, lmin, size = extreme_eigenvalues(ratio)
    print(f"r = {ratio}: lambda_max {lmax:.3f}, lambda_min {lmin:.3f} (P = {size})")
