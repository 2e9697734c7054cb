"""NegGrad+ (Kurmanji et al. 2023) as an unlearner: SGD with a fresh momentum of
`neggrad_momentum` (default 0, plain SGD as SCRUB's code; chosen on validation splits of
the training data) on ``alpha L(retain) - (1 - alpha) L(forget)`` from the trained
parameters."""

from __future__ import annotations

from mislabel.neggrad import neggrad_plus
from mislabel.train import TrainState, make_optimizer, seed_keys
from mislabel.unlearners.base import UnlearnInput


def run(method: str, inp: UnlearnInput) -> tuple[TrainState, dict]:
    """The unlearner signature for ``neggrad_plus``."""
    _, data_key = seed_keys(inp.seed)
    plain = inp.train_config._replace(momentum=inp.unlearning.neggrad_momentum)
    start = TrainState(inp.state.params, make_optimizer(plain).init(inp.state.params))
    alpha, epochs = inp.unlearning.neggrad_alpha, inp.unlearning.neggrad_epochs
    ascended = neggrad_plus(
        inp.model,
        start,
        inp.x_NxD,
        inp.y_N,
        inp.forget_N,
        data_key,
        plain,
        alpha=alpha,
        epochs=epochs,
    )
    # The model file keeps the training optimiser's structure, with a fresh momentum.
    params = ascended.params
    new = TrainState(params, make_optimizer(inp.train_config).init(params))
    return new, {"alpha": alpha, "epochs": epochs, "momentum": plain.momentum}
