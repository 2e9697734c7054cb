"""Training: SGD with momentum (Optax), the whole run one jitted `lax.scan`.

Every epoch shuffles with its own key, drops the last incomplete batch (as the authors'
code), and records per-sample loss and margin on the full training set at the epoch's end
(later detectors such as AUM use them).

Training on a subset (retraining or fine-tuning without the forgotten samples) uses a
boolean `keep` mask instead of slicing: each epoch orders the kept samples randomly, cuts
them into full batches and skips the surplus batches. That is exactly training on the
subset, and every run on the same n shares one compiled program (no recompilation for
each forget-set size).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mislabel.network.mlp import MLP, Params, init_params, make_model, margins, per_sample_loss
from mislabel.settings import TrainConfig
from mislabel.stopwatch import progress_line


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


def kept_batches(key_e: jax.Array, keep_N: jax.Array, size: int) -> tuple[jax.Array, jax.Array]:
    """One epoch's minibatches of the kept samples, at shapes fixed by n alone (pure).

    Kept samples come first in random order, forgotten ones last (never reached); the
    ``n // size`` slots are cut into batches, and `valid_S` marks the full batches of kept
    samples (the rest are skipped).

    Returns:
      (batches_SxB indices, valid_S bool).
    """
    n = keep_N.shape[0]
    slots = n // size  # batches if every sample were kept
    order_N = jnp.argsort(jnp.where(keep_N, jax.random.uniform(key_e, (n,)), 2.0))
    batches_SxB = order_N[: slots * size].reshape(slots, size)
    return batches_SxB, jnp.arange(slots) < jnp.sum(keep_N) // size


_EPOCH_SINKS: list[Callable[[int, float, float], None]] = []


def _report_epoch(e, loss, acc) -> None:
    """Host side of an epoch's end (a `jax.debug.callback`): to the innermost sink."""
    if _EPOCH_SINKS:
        _EPOCH_SINKS[-1](int(e), float(loss), float(acc))


@contextmanager
def epoch_progress(log: Callable[[str], None], epochs: int):
    """While open, a `fit` with ``progress=True`` logs each epoch as it finishes: its loss
    and accuracy on the kept samples, the time so far and the time left."""
    start = time.perf_counter()

    def sink(e: int, loss: float, acc: float) -> None:
        note = f"train loss {loss:.4f}, train accuracy (noisy labels) {acc:.4f}"
        log(progress_line("training", e + 1, epochs, time.perf_counter() - start, "epochs", note))

    _EPOCH_SINKS.append(sink)
    try:
        yield
    finally:
        _EPOCH_SINKS.remove(sink)


@partial(jax.jit, static_argnames=("model", "config", "progress"))
def fit(
    model: MLP,
    state: TrainState,
    x_NxD: jax.Array,
    y_N: jax.Array,
    keep_N: jax.Array,
    key: jax.Array,
    config: TrainConfig,
    progress: bool = False,
) -> tuple[TrainState, History]:
    """Train `state` for `config.epochs` epochs on the samples where `keep_N` is True.

    Returns the new state and the history; epoch loss/accuracy are over kept samples,
    per-sample loss and margin are reported for all N samples. With `progress`, each
    epoch's end is reported as it happens (inside `epoch_progress`; a no-op outside it).
    """
    optimizer = make_optimizer(config)
    size = config.batch_size
    n_keep = jnp.sum(keep_N)

    def batch_loss(params: Params, idx_B: jax.Array) -> jax.Array:
        return per_sample_loss(model.apply(params, x_NxD[idx_B]), y_N[idx_B]).mean()

    def step(carry: TrainState, batch) -> tuple[TrainState, None]:
        idx_B, valid = batch
        grads = jax.grad(batch_loss)(carry.params, idx_B)
        updates, opt_state = optimizer.update(grads, carry.opt_state, carry.params)
        new = TrainState(optax.apply_updates(carry.params, updates), opt_state)
        return jax.tree_util.tree_map(lambda a, b: jnp.where(valid, a, b), new, carry), None

    def epoch(carry: TrainState, key_and_index):
        key_e, e = key_and_index
        carry, _ = jax.lax.scan(step, carry, kept_batches(key_e, keep_N, size))
        logits_NxC = model.apply(carry.params, x_NxD)
        loss_N = per_sample_loss(logits_NxC, y_N)
        correct_N = jnp.argmax(logits_NxC, axis=1) == y_N
        loss = jnp.sum(jnp.where(keep_N, loss_N, 0.0)) / n_keep
        acc = jnp.sum(jnp.where(keep_N, correct_N, False)) / n_keep
        if progress:
            jax.debug.callback(_report_epoch, e, loss, acc, ordered=True)
        return carry, (loss, acc, loss_N, margins(logits_NxC, y_N))

    keys_E = jax.random.split(key, config.epochs)
    state, (loss_E, acc_E, loss_ExN, margin_ExN) = jax.lax.scan(
        epoch, state, (keys_E, jnp.arange(config.epochs))
    )
    return state, History(loss_E, acc_E, loss_ExN, margin_ExN)


@partial(jax.jit, static_argnames=("seed",))
def seed_keys(seed: int) -> tuple[jax.Array, jax.Array]:
    """(init key, data-order key) derived from one integer seed.

    Every run with the same seed (training, retraining, fine-tuning) gets the same keys, as
    in the authors' code: retraining starts from the same initial weights. (One compiled
    program per seed instead of three eager operations: integer maths, the same bits.)
    """
    init_key, data_key = jax.random.split(jax.random.PRNGKey(seed))
    return init_key, data_key


@partial(jax.jit, static_argnames=("model", "n_features", "config"))
def _fresh_state(model: MLP, init_key: jax.Array, n_features: int, config: TrainConfig):
    params = init_params(model, init_key, n_features)
    return TrainState(params, make_optimizer(config).init(params))


def new_state(model: MLP, seed: int, n_features: int, config: TrainConfig) -> TrainState:
    """Fresh parameters and optimiser state for `seed`.

    One compiled program (run eagerly, the initialisation was some 30 small programs, each
    traced, compiled or loaded from the cache on every run: ~0.3 s a process).
    """
    init_key, _ = seed_keys(int(seed))
    return _fresh_state(model, init_key, int(n_features), config)


class FreshStart(NamedTuple):
    """What a run from scratch starts from: the model, its initial state, the data-order key."""

    model: MLP
    state: TrainState
    data_key: jax.Array


def fresh_start(
    hidden: Sequence[int], n_classes: int, n_features: int, seed: int, config: TrainConfig
) -> FreshStart:
    """``make_model(hidden, n_classes)`` with the initial state and data-order key of `seed`.

    The recipe of `train` (same weights, same batch order for the same seed), for detectors
    that train extra models the way the detection model was trained: AUM's threshold-sample
    run, confident learning's (`cleanlab`) cross-validation folds. Check `config` first
    (`check_config` for the training-set size): only its optimiser settings are used here.
    """
    model = make_model(hidden, n_classes)
    state = new_state(model, seed, n_features, config)
    _, data_key = seed_keys(seed)
    return FreshStart(model, state, data_key)


def train(
    model: MLP,
    x_NxD: jax.Array,
    y_N: jax.Array,
    seed: int,
    config: TrainConfig,
    keep_N: np.ndarray | None = None,
    *,
    progress: bool = False,
) -> tuple[TrainState, History]:
    """Train a freshly initialised model from scratch (on the kept samples, default all);
    `progress`: report each epoch as it ends (see `epoch_progress`)."""
    keep_N = np.ones(len(y_N), bool) if keep_N is None else np.asarray(keep_N, bool)
    check_config(config, int(keep_N.sum()))
    _, data_key = seed_keys(seed)
    state = new_state(model, seed, np.shape(x_NxD)[1], config)
    return continue_training(model, state, x_NxD, y_N, keep_N, data_key, config, progress=progress)


def continue_training(
    model: MLP,
    state: TrainState,
    x_NxD: jax.Array,
    y_N: jax.Array,
    keep_N: np.ndarray,
    key: jax.Array,
    config: TrainConfig,
    *,
    progress: bool = False,
) -> tuple[TrainState, History]:
    """Train an existing state further on the kept samples (fine-tuning)."""
    check_config(config, int(np.sum(keep_N)))
    return fit(
        model,
        state,
        jnp.asarray(x_NxD, jnp.float32),
        jnp.asarray(y_N, jnp.int32),
        jnp.asarray(keep_N, bool),
        key,
        config,
        progress,
    )
