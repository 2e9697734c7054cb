"""Stage train: the MLP on the noisy labels, and its per-epoch history."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import jax
import numpy as np

from mislabel.checks import NumericalError
from mislabel.data import to_float
from mislabel.files.atomic import save_npz
from mislabel.files.checkpoint import save_model
from mislabel.files.dataset import load_dataset_file
from mislabel.network.mlp import make_model
from mislabel.network.train import epoch_progress, train
from mislabel.settings import TrainConfig, from_mapping
from mislabel.stages.common import PathLike

# Samples x epochs from which each epoch is logged as it ends (below, the lines come after
# training: a program that reports while it runs is compiled in every process, as JAX's
# persistent cache does not keep programs with host callbacks: the paper's training,
# 2,000 samples x 20 epochs, took 2.5 s live against 0.8 s cached, measured on 2 cores).
LIVE_PROGRESS_WORK = 1_000_000


def train_model(
    dataset_path: PathLike,
    model_path: PathLike,
    history_path: PathLike,
    *,
    hidden: Sequence[int],
    training: Mapping | TrainConfig | None = None,
    seed: int,
    log=print,
) -> dict:
    """Train the MLP on the noisy training set; write the model and the per-epoch history.

    training: the SGD settings (`TrainConfig`, or a mapping of its fields); the paper's if
    None."""
    ds = load_dataset_file(dataset_path)
    config = from_mapping(TrainConfig, training)
    model = make_model(hidden, ds.n_classes)
    start = time.perf_counter()
    live = len(ds.y_train) * config.epochs >= LIVE_PROGRESS_WORK
    with epoch_progress(log, config.epochs):  # each epoch logged as it ends, when live
        state, hist = train(
            model, to_float(ds.x_train), ds.y_train, int(seed), config, progress=live
        )
        state, hist = jax.block_until_ready((state, hist))
    hist = jax.device_get(hist)  # numpy: indexing a device array is a compiled program each
    seconds = time.perf_counter() - start
    for e in range(0 if live else config.epochs):
        log(
            f"epoch {e + 1:3d}/{config.epochs}: train loss {float(hist.loss_E[e]):.4f}, "
            f"train accuracy (noisy labels) {float(hist.accuracy_E[e]):.4f}"
        )
    if not np.all(np.isfinite(np.asarray(hist.loss_E))):
        raise NumericalError(
            f"training diverged: loss per epoch {np.asarray(hist.loss_E)}; lower lr"
        )
    save_model(
        model_path,
        model,
        state,
        ds.x_train.shape[1],
        extra={
            "seed": int(seed),
            "lr": config.lr,
            "momentum": config.momentum,
            "batch_size": config.batch_size,
            "epochs": config.epochs,
        },
    )
    save_npz(
        history_path,
        loss_E=np.asarray(hist.loss_E),
        accuracy_E=np.asarray(hist.accuracy_E),
        sample_loss_ExN=np.asarray(hist.sample_loss_ExN),
        margin_ExN=np.asarray(hist.margin_ExN),
        flipped=ds.flipped,
    )
    return {"seconds": seconds, "final_loss": float(hist.loss_E[-1])}
