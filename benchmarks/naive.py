"""A faithful naive baseline of the four detectors, the way the authors' reference code did it.

For every training sample z, one at a time, in eager JAX (nothing jitted across samples):
the Hessian of the mean training loss w.r.t. the last Dense kernel by `jax.hessian`
(recomputed for every sample, as the reference code did), its pseudo-inverse by
`numpy.linalg.pinv`, the gradient of z's loss, the gradients of the mean loss over D and over
D \\ {z}, and the four scores. It runs in float64 with the library's cut-off (`rcond=1e-10`), so
its scores can be checked against `mislabel.detectors.influence.anomaly_scores`: the same
work, done naively.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mislabel.network.mlp import MLP, Params

DETECTORS = ("loss", "if_self", "if_train", "if_train_minus_z")


def naive_scores(
    model: MLP,
    params: Params,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    indices: Sequence[int],
    rcond: float = 1e-10,
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Scores of the samples `indices`, each computed from scratch.

    Returns:
      ({detector: scores (K,)}, seconds per sample (K,)).
    """
    with jax.enable_x64(True):
        params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), params)
        x = jnp.asarray(x_NxD, jnp.float64)
        y = jnp.asarray(y_N, jnp.int32)
        kernel = params["params"]["head"]["kernel"]
        n = x.shape[0]

        def mean_loss(kernel, x_batch, y_batch):
            head = {**params["params"]["head"], "kernel": kernel}
            logits = model.apply({"params": {**params["params"], "head": head}}, x_batch)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y_batch).mean()

        def flat_grad(x_batch, y_batch):
            return np.asarray(jax.grad(mean_loss)(kernel, x_batch, y_batch)).reshape(-1)

        scores: dict[str, list[float]] = {d: [] for d in DETECTORS}
        seconds = []
        for i in indices:
            start = time.perf_counter()
            hess = np.asarray(jax.hessian(mean_loss)(kernel, x, y)).reshape(kernel.size, -1)
            hess_pinv = np.linalg.pinv(hess, rcond=rcond)
            g_z = flat_grad(x[i : i + 1], y[i : i + 1])
            g_train = flat_grad(x, y)
            keep = np.arange(n) != i
            g_train_minus_z = flat_grad(x[keep], y[keep])
            h_inv_g_z = hess_pinv @ g_z
            scores["loss"].append(float(mean_loss(kernel, x[i : i + 1], y[i : i + 1])))
            scores["if_self"].append(float(g_z @ h_inv_g_z))
            scores["if_train"].append(float(g_train @ h_inv_g_z))
            scores["if_train_minus_z"].append(float(g_train_minus_z @ h_inv_g_z))
            seconds.append(time.perf_counter() - start)
    return {d: np.asarray(v) for d, v in scores.items()}, seconds


def max_relative_error(naive: np.ndarray, fast: np.ndarray) -> float:
    """max |naive - fast| / |fast| (denominator floored at 1e-12 of the largest |fast|)."""
    floor = 1e-12 * max(float(np.max(np.abs(fast))), 1e-300)
    return float(np.max(np.abs(naive - fast) / np.maximum(np.abs(fast), floor)))
