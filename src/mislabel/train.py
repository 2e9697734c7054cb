"""Training: SGD with momentum (Optax), the whole run one jitted `lax.scan`.

Every epoch shuffles with its own key, drops the last incomplete batch (as the authors'
code), and records per-sample loss and margin on the full training set at the epoch's end
(later detectors such as AUM use them).
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from mislabel.model import MLP, Params, init_params, margins, per_sample_loss


class TrainConfig(NamedTuple):
    """Optimiser settings (the paper: SGD, lr 0.01, momentum 0.9, batch 32, 20 epochs)."""

    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 20


class TrainState(NamedTuple):
    """Parameters plus the optimiser state (SGD momentum trace)."""

    params: Params
    opt_state: Any


class History(NamedTuple):
    """Per-epoch records of a training run (E epochs, N training samples)."""

    loss_E: jax.Array
    accuracy_E: jax.Array
    sample_loss_ExN: jax.Array
    margin_ExN: jax.Array


def make_optimizer(config: TrainConfig) -> optax.GradientTransformation:
    """SGD with (heavy-ball) momentum."""
    return optax.sgd(learning_rate=config.lr, momentum=config.momentum or None)


def check_config(config: TrainConfig, n: int) -> None:
    """Raise a clear ValueError for settings that cannot train on `n` samples."""
    if config.lr <= 0:
        raise ValueError(f"lr must be positive, got {config.lr}")
    if not 0 <= config.momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {config.momentum}")
    if config.epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {config.epochs}")
    if config.batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {config.batch_size}")
    if config.batch_size > n:
        raise ValueError(
            f"batch_size {config.batch_size} is larger than the {n} training samples; "
            "lower batch_size (the last incomplete batch of each epoch is dropped)"
        )


@partial(jax.jit, static_argnames=("model", "config"))
def fit(
    model: MLP,
    state: TrainState,
    x_NxD: jax.Array,
    y_N: jax.Array,
    key: jax.Array,
    config: TrainConfig,
) -> tuple[TrainState, History]:
    """Train `state` for `config.epochs` epochs on (x, y); return the new state and history."""
    optimizer = make_optimizer(config)
    n = x_NxD.shape[0]
    n_batches = n // config.batch_size

    def batch_loss(params: Params, idx_B: jax.Array) -> jax.Array:
        return per_sample_loss(model.apply(params, x_NxD[idx_B]), y_N[idx_B]).mean()

    def step(carry: TrainState, idx_B: jax.Array) -> tuple[TrainState, None]:
        grads = jax.grad(batch_loss)(carry.params, idx_B)
        updates, opt_state = optimizer.update(grads, carry.opt_state, carry.params)
        return TrainState(optax.apply_updates(carry.params, updates), opt_state), None

    def epoch(carry: TrainState, key_e: jax.Array):
        order_N = jax.random.permutation(key_e, n)
        batches_BxS = order_N[: n_batches * config.batch_size].reshape(n_batches, -1)
        carry, _ = jax.lax.scan(step, carry, batches_BxS)
        logits_NxC = model.apply(carry.params, x_NxD)
        loss_N = per_sample_loss(logits_NxC, y_N)
        acc = jnp.mean(jnp.argmax(logits_NxC, axis=1) == y_N)
        return carry, (loss_N.mean(), acc, loss_N, margins(logits_NxC, y_N))

    state, (loss_E, acc_E, loss_ExN, margin_ExN) = jax.lax.scan(
        epoch, state, jax.random.split(key, config.epochs)
    )
    return state, History(loss_E, acc_E, loss_ExN, margin_ExN)


def seed_keys(seed: int) -> tuple[jax.Array, jax.Array]:
    """(init key, data-order key) derived from one integer seed.

    Every run with the same seed (training, retraining, fine-tuning) gets the same keys, as
    in the authors' code: retraining starts from the same initial weights.
    """
    init_key, data_key = jax.random.split(jax.random.PRNGKey(seed))
    return init_key, data_key


def new_state(model: MLP, seed: int, n_features: int, config: TrainConfig) -> TrainState:
    """Fresh parameters and optimiser state for `seed`."""
    init_key, _ = seed_keys(seed)
    params = init_params(model, init_key, n_features)
    return TrainState(params, make_optimizer(config).init(params))


def train(
    model: MLP, x_NxD: jax.Array, y_N: jax.Array, seed: int, config: TrainConfig
) -> tuple[TrainState, History]:
    """Train a freshly initialised model from scratch."""
    check_config(config, x_NxD.shape[0])
    _, data_key = seed_keys(seed)
    state = new_state(model, seed, x_NxD.shape[1], config)
    return fit(
        model, state, jnp.asarray(x_NxD, jnp.float32), jnp.asarray(y_N, jnp.int32), data_key, config
    )
