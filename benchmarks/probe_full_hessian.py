"""Smallest and largest eigenvalue of the full-network Hessian of trained paper models.

Run after the default workflow (it reads results/mnist/r{ratio}/s0/):
    .venv/bin/python benchmarks/probe_full_hessian.py
Lanczos gives the largest eigenvalue; Lanczos on ``lambda_max I - H`` gives the smallest.
This is how `full_damping: 1.0` was chosen (it must exceed |lambda_min|).
"""

import jax
import jax.numpy as jnp

from mislabel.checkpoint import load_model
from mislabel.data import to_float
from mislabel.dataset_file import load_dataset_file
from mislabel.full_curvature import flatten, lanczos, make_full_hvp
from mislabel.precision import float64, to_float64


def extreme_eigenvalues(ratio: str) -> tuple[float, float, int]:
    """(lambda_max, lambda_min, P) of the mean-loss Hessian of seed 0's model at `ratio`."""
    ds = load_dataset_file(f"results/mnist/r{ratio}/s0/noisy.npz")
    loaded = load_model(f"results/mnist/r{ratio}/s0/model.msgpack")
    with float64():
        params = to_float64(loaded.state.params)
        theta, _ = flatten(params)
        x = jnp.asarray(to_float(ds.x_train), jnp.float64)
        y = jnp.asarray(ds.y_train, jnp.int32)
        hvp = make_full_hvp(loaded.model, params, x, y, jnp.full((len(y),), 1 / len(y)))
        key = jax.random.PRNGKey(0)
        top = jax.jit(lambda: lanczos(hvp, theta.size, 1, key, n_iter=60))()
        lmax = float(top[0][0])

        def shifted_hvp(v):
            return lmax * v - hvp(v)

        shifted = jax.jit(lambda: lanczos(shifted_hvp, theta.size, 1, key, n_iter=150))()
        return lmax, lmax - float(shifted[0][0]), int(theta.size)


for ratio in ("0.05", "0.3"):
    lmax, lmin, size = extreme_eigenvalues(ratio)
    print(f"r = {ratio}: lambda_max {lmax:.3f}, lambda_min {lmin:.3f} (P = {size})")
