"""The paper's classifier: a Flax MLP with ReLU hidden layers and a linear head.

Parameters are a plain pytree ``{"params": {"layers_0": ..., "head": {"kernel", "bias"}}}``.
The last Dense kernel (``head/kernel``, shape ``(H_last, C)``) is the `last_layer` curvature
scope of the authors' code.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

Params = Any


class MLP(nn.Module):
    """Multi-layer perceptron: Dense+ReLU for each width in `hidden`, then a Dense head."""

    hidden: tuple[int, ...]
    n_classes: int

    def setup(self) -> None:
        self.layers = [nn.Dense(width) for width in self.hidden]
        self.head = nn.Dense(self.n_classes)

    def features(self, x_NxD: jax.Array) -> jax.Array:
        """Penultimate activations, shape (N, H_last) (the input itself if no hidden layer)."""
        h_NxH = x_NxD
        for layer in self.layers:
            h_NxH = nn.relu(layer(h_NxH))
        return h_NxH

    def __call__(self, x_NxD: jax.Array) -> jax.Array:
        """Logits, shape (N, C)."""
        return self.head(self.features(x_NxD))


def make_model(hidden: Sequence[int], n_classes: int) -> MLP:
    """Build an MLP after checking the architecture is sensible."""
    hidden = tuple(int(h) for h in hidden)
    if any(h < 1 for h in hidden):
        raise ValueError(f"hidden layer sizes must be positive integers, got {list(hidden)}")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    return MLP(hidden=hidden, n_classes=int(n_classes))


def init_params(model: MLP, rng: jax.Array, n_features: int) -> Params:
    """Initialise parameters for inputs of `n_features` dimensions (float32)."""
    return model.init(rng, jnp.zeros((1, n_features), jnp.float32))


def per_sample_loss(logits_NxC: jax.Array, y_N: jax.Array) -> jax.Array:
    """Cross-entropy of each sample's given label, shape (N,)."""
    return optax.softmax_cross_entropy_with_integer_labels(logits_NxC, y_N)


def margins(logits_NxC: jax.Array, y_N: jax.Array) -> jax.Array:
    """Logit of the given label minus the largest other logit (AUM's margin), shape (N,)."""
    assigned_N = jnp.take_along_axis(logits_NxC, y_N[:, None], axis=1)[:, 0]
    others_NxC = jnp.where(
        jax.nn.one_hot(y_N, logits_NxC.shape[1], dtype=bool), -jnp.inf, logits_NxC
    )
    return assigned_N - others_NxC.max(axis=1)


@partial(jax.jit, static_argnames=("model",))
def predict(model: MLP, params: Params, x_NxD: jax.Array) -> jax.Array:
    """Predicted class indices, shape (N,) (one compiled program, not a dozen op by op)."""
    return jnp.argmax(model.apply(params, x_NxD), axis=1)
