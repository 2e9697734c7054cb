"""Float64 for the curvature maths.

Training runs in float32 (JAX's default, as the paper). Hessians of the two-class softmax
are singular (rank 50 of 100 for the paper's head) with condition numbers of 1e4-1e5 on
their range, which float32 cannot separate from the null space reliably; so scoring and
unlearning cast the model and data to float64 inside `jax.enable_x64`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


@contextlib.contextmanager
def float64() -> Iterator[None]:
    """Context in which JAX computes in float64."""
    with jax.enable_x64(True):
        yield


def to_float64(tree: Any) -> Any:
    """Cast every floating leaf of a pytree (or one array) to float64. Call inside `float64()`."""

    def cast(leaf: Any) -> Any:
        arr = jnp.asarray(leaf)
        return arr.astype(jnp.float64) if jnp.issubdtype(arr.dtype, np.floating) else arr

    return jax.tree_util.tree_map(cast, tree)


def to_float32(tree: Any) -> Any:
    """Cast every floating leaf of a pytree back to float32 (for saving / further training)."""

    def cast(leaf: Any) -> Any:
        arr = np.asarray(leaf)
        return arr.astype(np.float32) if np.issubdtype(arr.dtype, np.floating) else arr

    return jax.tree_util.tree_map(cast, tree)


def float64_problem(params: Any, x_NxD: Any, y_N: Any) -> tuple[Any, jax.Array, jax.Array]:
    """A model's parameters and data as float64 (labels int32). Call inside `float64()`."""
    return to_float64(params), jnp.asarray(x_NxD, jnp.float64), jnp.asarray(y_N, jnp.int32)
