"""What every unlearner takes (the unlearner signature of `mislabel.registry`)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from mislabel.settings import CurvatureSettings, UnlearningSettings


class UnlearnInput(NamedTuple):
    """A trained model's state, its training set, the samples to forget, and the settings.

    x_NxD: float inputs in [0, 1]; y_N: the (noisy) training labels; forget_N: bool (N,),
    checked; seed and train_config: how the model was trained (`mislabel.network.train`).
    """

    model: Any
    state: Any
    x_NxD: np.ndarray
    y_N: np.ndarray
    forget_N: np.ndarray
    seed: int
    train_config: Any
    curvature: CurvatureSettings
    unlearning: UnlearningSettings
