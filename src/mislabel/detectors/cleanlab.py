"""The confident-learning detector (`cleanlab` on cross-validated probabilities,
`mislabel.confident`), with its own estimate of how many samples are mislabeled."""

from __future__ import annotations

import numpy as np

from mislabel.confident import confident_learning
from mislabel.detectors.base import Detection, DetectorInput


def score(names: tuple[str, ...], inp: DetectorInput) -> dict[str, Detection]:
    """Confident-learning scores and count, from `cv_folds` folds trained like the model."""
    (name,) = names
    recipe = inp.training_recipe()
    scores, count, _, info = confident_learning(*recipe, inp.detection.cv_folds)
    return {
        name: Detection(np.asarray(scores, np.float64), int(count), {"cv_folds": info["folds"]})
    }
