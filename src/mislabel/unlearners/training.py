"""The training-based unlearners of the paper: fine-tuning and retraining.

- ``finetune``: continue SGD from the trained state (momentum kept, as the authors' code)
  on the remaining samples, for `finetune_epochs`.
- ``retrain``: fresh initialisation with the same seed, trained on the remaining samples.
"""

from __future__ import annotations

import jax
import numpy as np

from mislabel.network.mlp import MLP
from mislabel.network.train import TrainState, continue_training, seed_keys, train
from mislabel.settings import TrainConfig
from mislabel.unlearners.base import UnlearnInput


def finetune(
    model: MLP,
    state: TrainState,
    x_NxD: jax.Array,
    y_N: jax.Array,
    forget_N: np.ndarray,
    seed: int,
    config: TrainConfig,
) -> TrainState:
    """Continue training `state` (momentum included) on the remaining samples."""
    _, data_key = seed_keys(seed)
    new, _ = continue_training(model, state, x_NxD, y_N, ~forget_N, data_key, config)
    return new


def retrain(
    model: MLP,
    x_NxD: jax.Array,
    y_N: jax.Array,
    forget_N: np.ndarray,
    seed: int,
    config: TrainConfig,
) -> TrainState:
    """Train from the seed's fresh initialisation on the remaining samples."""
    new, _ = train(model, x_NxD, y_N, seed, config, keep_N=~forget_N)
    return new


def run(unlearner: str, inp: UnlearnInput) -> tuple[TrainState, dict]:
    """The unlearner signature for ``finetune`` and ``retrain``."""
    if unlearner == "finetune":
        config = inp.train_config._replace(epochs=inp.unlearning.finetune_epochs)
        new = finetune(inp.model, inp.state, inp.x_NxD, inp.y_N, inp.forget_N, inp.seed, config)
    elif unlearner == "retrain":
        new = retrain(inp.model, inp.x_NxD, inp.y_N, inp.forget_N, inp.seed, inp.train_config)
    else:
        raise ValueError(f"unlearners.training runs finetune and retrain, not {unlearner!r}")
    return new, {}
