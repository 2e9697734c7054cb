"""Correct rather than forget: give flagged samples a new label, then keep training.

A flagged label is presumed wrong, so its new label is the model's most probable class
*other than* the given one (argmax of the logits with the given label masked out; with two
classes, the other class). Training then continues from the trained state (momentum kept,
like fine-tuning) on all samples with the corrected labels.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from mislabel.checks import check_epochs, check_mask
from mislabel.network.mlp import MLP, Params
from mislabel.network.train import TrainState, continue_training, seed_keys
from mislabel.settings import TrainConfig
from mislabel.unlearners.base import UnlearnInput


@partial(jax.jit, static_argnames="model")
def _corrected(
    model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array, flagged_N: jax.Array
) -> jax.Array:
    logits_NxC = model.apply(params, x_NxD)
    given_NxC = jax.nn.one_hot(y_N, logits_NxC.shape[1], dtype=bool)
    other_N = jnp.argmax(jnp.where(given_NxC, -jnp.inf, logits_NxC), axis=1)
    return jnp.where(flagged_N, other_N.astype(y_N.dtype), y_N)


def corrected_labels(
    model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array, flagged_N: np.ndarray
) -> jax.Array:
    """Labels with each flagged one replaced by the most probable other class.

    Args:
      x_NxD: inputs; y_N: given labels in 0..C-1; flagged_N: bool (N,), True = presumed wrong.

    Returns:
      int32 (N,): unflagged labels unchanged, flagged ones the argmax over the other classes.
    """
    x_NxD = jnp.asarray(x_NxD, jnp.float32)
    n = x_NxD.shape[0]
    if np.shape(y_N) != (n,):
        raise ValueError(f"y_N must have shape ({n},), got {np.shape(y_N)}")
    flagged_N = check_mask(flagged_N, n, "flagged")
    return _corrected(model, params, x_NxD, jnp.asarray(y_N, jnp.int32), jnp.asarray(flagged_N))


def relabel(
    model: MLP,
    state: TrainState,
    x_NxD: jax.Array,
    y_N: jax.Array,
    flagged_N: np.ndarray,
    key: jax.Array,
    config: TrainConfig,
    *,
    epochs: int,
) -> tuple[TrainState, np.ndarray]:
    """Relabel the flagged samples, then train `epochs` more epochs on all N samples.

    Args:
      key: data-order key (`seed_keys(seed)[1]` gives `finetune`'s order).
      config: optimiser settings; `config.epochs` is replaced by `epochs`.

    Returns:
      (new state, corrected labels as int32 (N,)).
    """
    config = config._replace(epochs=check_epochs(epochs))
    new_y_N = np.asarray(corrected_labels(model, state.params, x_NxD, y_N, flagged_N))
    new, _ = continue_training(
        model, state, x_NxD, new_y_N, np.ones(len(new_y_N), bool), key, config
    )
    return new, new_y_N


def run(unlearner: str, inp: UnlearnInput) -> tuple[TrainState, dict]:
    """The unlearner signature for ``relabel``."""
    _, data_key = seed_keys(inp.seed)
    epochs = inp.unlearning.relabel_epochs
    new, new_y = relabel(
        inp.model,
        inp.state,
        inp.x_NxD,
        inp.y_N,
        inp.forget_N,
        data_key,
        inp.train_config,
        epochs=epochs,
    )
    n_relabeled = int(np.sum(np.asarray(new_y) != np.asarray(inp.y_N)))
    return new, {"epochs": epochs, "n_relabeled": n_relabeled}
