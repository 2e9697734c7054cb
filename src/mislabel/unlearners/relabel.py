"""Relabelling as an unlearner: correct instead of forget. The forget set gets the model's
most probable other label, then the model is fine-tuned on every sample (`mislabel.relabel`)."""

from __future__ import annotations

import numpy as np

from mislabel.relabel import relabel
from mislabel.train import TrainState, seed_keys
from mislabel.unlearners.base import UnlearnInput


def run(method: str, inp: UnlearnInput) -> tuple[TrainState, dict]:
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
