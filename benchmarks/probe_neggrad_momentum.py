"""NegGrad+ with and without the training's SGD momentum, on a trained paper model.

Run after the default workflow (it reads results/mnist/r0.3/s0/):
    .venv/bin/python benchmarks/probe_neggrad_momentum.py
This is why `unlearn` runs NegGrad+ with plain SGD (momentum 0), as SCRUB's code does.
"""

import jax
import numpy as np

from mislabel.data.subset import to_float
from mislabel.files.checkpoint import load_model
from mislabel.files.dataset import load_dataset_file
from mislabel.model import predict
from mislabel.neggrad import neggrad_plus
from mislabel.train import TrainConfig, TrainState, make_optimizer

ds = load_dataset_file("results/mnist/r0.3/s0/noisy.npz")
loaded = load_model("results/mnist/r0.3/s0/model.msgpack")
x, x_test = to_float(ds.x_train), to_float(ds.x_test)


def accuracy(state: TrainState) -> float:
    return float(np.mean(np.asarray(predict(loaded.model, state.params, x_test)) == ds.y_test))


print(f"pre-trained: {accuracy(loaded.state):.4f}")
for momentum in (0.9, 0.0):
    config = TrainConfig(momentum=momentum)
    start = loaded.state
    if momentum == 0.0:  # a fresh optimiser without momentum
        start = TrainState(start.params, make_optimizer(config).init(start.params))
    new = neggrad_plus(
        loaded.model,
        start,
        x,
        ds.y_train,
        ds.flipped,
        jax.random.PRNGKey(0),
        config,
        alpha=0.95,
        epochs=5,
    )
    print(f"NegGrad+ alpha 0.95, 5 epochs, momentum {momentum}: {accuracy(new):.4f}")
