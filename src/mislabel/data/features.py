"""Your own samples as the workflow's dataset: `dataset: features` in the config.

Instead of a verified built-in dataset (MNIST, Fashion-MNIST), the workflow reads four
`.npy` files named by the config's `features` mapping (`mislabel.catalog.FEATURE_FILES`):
training and test
samples, (N, D) float features such as the embeddings of a model trained elsewhere (or
uint8 pixels), and their (N,) integer class ids. They are checked as `mislabel pack` checks
its arrays (`mislabel.files.arrays`) and stored under the four keys of a fetched dataset
(`mislabel.data.verify.ARRAY_KEYS`), so noise injection and every later stage treat them
as they treat MNIST. Nothing is verified against a known hash: the files are yours.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from mislabel.catalog import FEATURE_FILES, missing_feature_files
from mislabel.data.verify import ARRAY_KEYS, Arrays
from mislabel.files.arrays import as_features, as_labels, load_npy


def class_ids(labels_N: np.ndarray, what: str) -> np.ndarray:
    """Class ids: (N,) non-negative integers, as int64."""
    y = as_labels(labels_N, what, labels_N.shape[0] if labels_N.ndim else -1)
    if y.size and y.min() < 0:
        raise ValueError(f"{what} holds {y.min()}; class ids must be integers >= 0")
    return y


def read_feature_files(files: Mapping[str, str | os.PathLike]) -> Arrays:
    """The four arrays of `files` (keys `FEATURE_FILES`), checked, under `ARRAY_KEYS`.

    Samples become (N, D) float32 features (float64 is rounded to float32) or uint8
    pixels; labels (N,) int64 class ids. Train and test must agree on D and on the kind.
    """
    missing = missing_feature_files({k: str(v) for k, v in files.items()})
    if missing:
        raise FileNotFoundError(
            f"features: {', '.join(missing)} unset or not a file; give each of "
            f"{', '.join(FEATURE_FILES)} as the path of a .npy array"
        )
    x_train = as_features(load_npy(files["train_features"], "train_features"), "train_features")
    x_test = as_features(load_npy(files["test_features"], "test_features"), "test_features")
    y_train = class_ids(load_npy(files["train_labels"], "train_labels"), "train_labels")
    y_test = class_ids(load_npy(files["test_labels"], "test_labels"), "test_labels")
    arrays = dict(zip(ARRAY_KEYS, (x_train, y_train, x_test, y_test), strict=True))
    check_feature_arrays(arrays, "features")
    return arrays


def check_feature_arrays(arrays: Arrays, where: str) -> None:
    """Raise ValueError unless `arrays` are consistent own-features data (`where` names them)."""
    x_train, y_train, x_test, y_test = (arrays.get(k) for k in ARRAY_KEYS)
    if any(a is None for a in (x_train, y_train, x_test, y_test)):
        raise ValueError(f"{where} lacks some of {list(ARRAY_KEYS)}")
    problems = []
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 2 or x.shape[0] == 0 or x.dtype not in (np.float32, np.uint8):
            problems.append(f"{name} samples: {x.shape} {x.dtype}, expected (N, D) float32")
        elif y.shape != (x.shape[0],):
            problems.append(
                f"{name} labels have shape {y.shape}, expected ({x.shape[0]},) (one per sample)"
            )
    if not problems and x_train.shape[1] != x_test.shape[1]:
        problems.append(f"train has {x_train.shape[1]} features per sample, test {x_test.shape[1]}")
    if not problems and x_train.dtype != x_test.dtype:
        problems.append(
            f"train samples are {x_train.dtype}, test samples {x_test.dtype}; give both as "
            "float features or both as uint8 pixels"
        )
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))


def class_counts(labels_path: str | os.PathLike) -> dict[int, int]:
    """Training samples per class id of a labels `.npy` file (for checking the config)."""
    y = class_ids(load_npy(labels_path, "train_labels"), "train_labels")
    ids, counts = np.unique(y, return_counts=True)
    return dict(zip(ids.tolist(), counts.tolist(), strict=True))
