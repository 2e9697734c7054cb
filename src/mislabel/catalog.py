"""The datasets the workflow knows before loading any: their names, the files of your own
features, and the class sizes of the built-in ones.

Pure Python, no numpy: the workflow checks its config with these while Snakemake parses it
(`mislabel.workflow.config`), wherever Snakemake runs. Loading and checking the data
itself lives in `mislabel.data`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# The verified built-in datasets (`mislabel.data.verify.CANONICAL_SHA256` has their hashes).
BUILT_IN: tuple[str, ...] = ("fashion_mnist", "mnist")
# Your own `.npy` samples (`mislabel.data.features`).
FEATURES = "features"
# Every dataset name the workflow accepts.
DATASETS: tuple[str, ...] = (*BUILT_IN, FEATURES)
# The config's `features` keys, each a `.npy` path, in the order of the stored arrays
# (`mislabel.data.verify.ARRAY_KEYS`).
FEATURE_FILES = ("train_features", "train_labels", "test_features", "test_labels")

# Training images per class of each built-in dataset (for checking `train_per_class`).
TRAIN_CLASS_COUNTS: dict[str, tuple[int, ...]] = {
    "mnist": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    "fashion_mnist": (6000,) * 10,
}


def missing_feature_files(files: Mapping[str, str | None] | None) -> list[str]:
    """The `features` keys whose path is unset or names no file."""
    files = files or {}
    return [
        key for key in FEATURE_FILES if not files.get(key) or not os.path.isfile(str(files[key]))
    ]
