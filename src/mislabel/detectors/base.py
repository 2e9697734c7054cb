"""What every detector takes and returns (the detector signature of `mislabel.registry`)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from mislabel.settings import CurvatureSettings, DetectionSettings


class DetectorInput(NamedTuple):
    """A trained model, its training set, and how it was trained.

    seed, train_config: how the model was trained (aum and cleanlab train more models the
    same way); margin_ExN: its per-epoch training margins (aum only).
    """

    model: Any
    params: Any
    x_NxD: np.ndarray
    y_N: np.ndarray
    seed: int = 0
    train_config: Any = None
    margin_ExN: np.ndarray | None = None
    curvature: CurvatureSettings = CurvatureSettings()
    detection: DetectionSettings = DetectionSettings()

    def training_recipe(self) -> tuple:
        """(hidden, x, y, n_classes, seed, train_config): the arguments with which the
        detectors that train more models (aum, cleanlab) train them like this one."""
        model = self.model
        return (
            model.hidden,
            self.x_NxD,
            self.y_N,
            int(model.n_classes),
            self.seed,
            self.train_config,
        )


class Detection(NamedTuple):
    """A detector's scores (higher = more likely mislabeled), its own estimate of the number
    of mislabeled samples (None if it has none) and facts for the summary row."""

    scores_N: np.ndarray
    m_estimated: int | None
    info: dict
