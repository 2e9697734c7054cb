"""Class subsets of a dataset (`select_subset`) and pixel scaling (`to_float`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from mislabel.data.sources import RawDataset

SUBSET_MODES = ("first", "random")


class Subset(NamedTuple):
    """A class subset, images flattened.

    x_train (n, D) (MNIST: D = 784 uint8 pixels; own features: float32); y_train (n,)
    int32 in 0..C-1 (position in `classes`); x_test (t, D); y_test (t,) int32; classes
    (C,) int32 original labels.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray


def _check_classes(labels: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """Validate `classes` against `labels`; return them as an int32 array (C,)."""
    cls = np.asarray(classes)
    if cls.ndim != 1 or len(cls) < 2:
        raise ValueError(f"need at least 2 classes as a flat list, got {list(np.ravel(cls))}")
    if not np.issubdtype(cls.dtype, np.integer):
        raise ValueError(f"classes must be integers, got {cls.tolist()}")
    uniq, counts = np.unique(cls, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"duplicate classes {uniq[counts > 1].tolist()} in {cls.tolist()}")
    present = np.unique(labels)
    absent = [int(c) for c in cls if c not in present]
    if absent:
        raise ValueError(f"classes {absent} are not among the training labels {present.tolist()}")
    return cls.astype(np.int32)


def _pick_train(
    labels: np.ndarray, classes: np.ndarray, per_class: int | None, subset: str, seed: int
) -> np.ndarray:
    """Indices (n,) of the chosen training samples, in dataset order (None: all of them)."""
    rng = np.random.default_rng(seed)
    picked = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if per_class is None:
            picked.append(idx)
            continue
        if per_class > len(idx):
            raise ValueError(
                f"train_per_class={per_class} but class {int(c)} has only {len(idx)} "
                f"training images; use train_per_class <= {len(idx)}"
            )
        picked.append(
            idx[:per_class] if subset == "first" else rng.choice(idx, per_class, replace=False)
        )
    return np.sort(np.concatenate(picked))


def _reindex(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Map each label to its position in `classes`, as int32 (labels must be in classes)."""
    order = np.argsort(classes)
    return order[np.searchsorted(classes[order], labels)].astype(np.int32)


def select_subset(
    raw: RawDataset,
    classes: Sequence[int],
    train_per_class: int | None,
    subset: str = "first",
    seed: int = 0,
    test_per_class: int | None = None,
) -> Subset:
    """Restrict a dataset to `classes`, `train_per_class` training images each.

    Args:
      raw: the whole dataset.
      classes: original labels to keep, C >= 2, distinct; class `classes[k]` becomes label k.
      train_per_class: training images per class; None: every training image of the
        classes.
      subset: "first" (the first ones in dataset order, as the paper's authors did) or
        "random" (a uniform choice without replacement per class, from `seed`).
      seed: used by "random" only.
      test_per_class: keep at most the first this many test images of each class (the
        paper's authors: 1000); None keeps all of them.

    Returns:
      Subset: x_train (n, D), y_train (n,) int32, the test samples of the classes
      x_test (t, D) and y_test (t,) int32, classes (C,) int32; both splits in
      dataset order.
    """
    if subset not in SUBSET_MODES:
        raise ValueError(f"unknown subset mode {subset!r}; choose one of {list(SUBSET_MODES)}")
    cls = _check_classes(raw.train_labels, classes)
    if train_per_class is not None and (
        int(train_per_class) != train_per_class or train_per_class < 1
    ):
        raise ValueError(
            f"train_per_class must be a positive integer or None, got {train_per_class}"
        )
    per_class = None if train_per_class is None else int(train_per_class)
    train_idx = _pick_train(raw.train_labels, cls, per_class, subset, seed)
    if test_per_class is None:
        test_idx = np.flatnonzero(np.isin(raw.test_labels, cls))
    else:
        if int(test_per_class) != test_per_class or test_per_class < 1:
            raise ValueError(
                f"test_per_class must be a positive integer or None, got {test_per_class}"
            )
        first = [np.flatnonzero(raw.test_labels == c)[: int(test_per_class)] for c in cls]
        test_idx = np.sort(np.concatenate(first))
    return Subset(
        x_train=raw.train_images[train_idx].reshape(len(train_idx), -1),
        y_train=_reindex(raw.train_labels[train_idx], cls),
        x_test=raw.test_images[test_idx].reshape(len(test_idx), -1),
        y_test=_reindex(raw.test_labels[test_idx], cls),
        classes=cls,
    )


def to_float(x: np.ndarray) -> np.ndarray:
    """Samples as a model's float32 input: uint8 pixels (...) -> [0, 1] (divided by 255);
    float32 features (...) are returned unchanged."""
    x = np.asarray(x)
    if x.dtype == np.float32:
        return x
    if x.dtype != np.uint8:
        raise ValueError(
            f"to_float expects uint8 pixels, got dtype {x.dtype}; float features must be "
            "float32 (`mislabel pack` stores them so)"
        )
    return x.astype(np.float32) / np.float32(255.0)
