"""Your own arrays as a dataset file (`mislabel pack`): pixels and labels checked and
converted to the noisy-dataset format of `mislabel.files.dataset`.

Samples are (n, D) or (n, H, W, ...) arrays: uint8 pixels (or integers 0..255), stored as
uint8 and scaled to [0, 1] when a model reads them; or float features of any finite range
(embeddings, tabular data), stored as float32 unchanged (float64 is cast to float32).
Labels are (n,) integer class indices 0..C-1. Every refusal is a ValueError (or
FileNotFoundError / IsADirectoryError) naming the array at fault.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mislabel.files.arrays import PathLike, as_features, as_labels, load_npy
from mislabel.files.dataset import NoisyDataset, save_dataset


def _n_classes(labelled: dict[str, np.ndarray], classes: Sequence[int] | None) -> int:
    """C: the declared classes, else the largest label + 1; every label must be below it."""
    if classes is not None:
        if len(set(classes)) != len(classes):
            raise ValueError(f"--classes has duplicates: {classes}")
        n_classes = len(classes)
    else:
        n_classes = int(max(y.max() for y in labelled.values() if y.size)) + 1
        used = np.unique(np.concatenate([y for y in labelled.values() if y.size])).size
        if n_classes > 2 * used:
            raise ValueError(
                f"the labels go up to {n_classes - 1} but use only {used} distinct values: "
                "they look like class ids, not class indices 0..C-1; map them to 0..C-1 and "
                "pass the original ids with --classes"
            )
    if n_classes < 2:
        raise ValueError(f"need at least 2 classes, got {n_classes} (declare them with --classes)")
    for name, y in labelled.items():
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(
                f"{name} has labels {y.min()}..{y.max()}, outside 0..{n_classes - 1}; labels "
                "must be class indices (--classes lists the original class ids)"
            )
    return n_classes


def pack_arrays(
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    y_clean: np.ndarray | None = None,
    classes: Sequence[int] | None = None,
    name: str = "custom",
    ratio: float = 0.0,
    seed: int = 0,
) -> NoisyDataset:
    """A dataset from samples and labels, checked and converted.

    Args:
      x_train: (n, D) or (n, H, W, ...) training samples, uint8 pixels or float features
        (float64 is cast to float32); y_train: (n,) their labels 0..C-1.
      x_test, y_test: a test split (both or neither; none: an empty one).
      y_clean: the true training labels, if known (none: unknown, taken as y_train).
      classes: original class id of each label 0..C-1 (none: 0..max label).
      name, ratio, seed: recorded in the file (ratio: later the default ratio of `score`).
    Returns:
      The dataset: (n, D) uint8 pixels or float32 features (`as_features`), int32 labels,
      `flipped` where y_train != y_clean.
    """
    if (x_test is None) != (y_test is None):
        raise ValueError("give both x_test and y_test, or neither")
    x_train = as_features(x_train, "x_train")
    n, d = x_train.shape
    y_train = as_labels(y_train, "y_train", n)
    known = y_clean is not None
    y_clean = as_labels(y_clean, "y_clean", n) if known else y_train
    if x_test is not None:
        x_test = as_features(x_test, "x_test")
        if x_test.shape[1] != d:
            raise ValueError(f"x_test has {x_test.shape[1]} features per sample, x_train {d}")
        if x_test.dtype != x_train.dtype:
            raise ValueError(
                f"x_test is stored as {x_test.dtype}, x_train as {x_train.dtype}; give both as "
                "uint8 pixels or both as float features"
            )
        y_test = as_labels(y_test, "y_test", x_test.shape[0])
    else:
        x_test, y_test = np.zeros((0, d), x_train.dtype), np.zeros(0, np.int64)
    labelled = {"y_train": y_train, "y_clean": y_clean, "y_test": y_test}
    n_classes = _n_classes(labelled, classes)
    return NoisyDataset(
        x_train=x_train,
        y_train=y_train.astype(np.int32),
        y_clean=y_clean.astype(np.int32),
        flipped=y_train != y_clean,
        x_test=x_test,
        y_test=y_test.astype(np.int32),
        classes=np.asarray(classes if classes is not None else range(n_classes), np.int32),
        dataset=name,
        ratio=float(ratio),
        seed=int(seed),
        noise_mode="known" if known else "unknown",
    )


def pack_files(
    out: PathLike,
    x_train: PathLike,
    y_train: PathLike,
    *,
    x_test: PathLike | None = None,
    y_test: PathLike | None = None,
    y_clean: PathLike | None = None,
    **recorded,
) -> dict:
    """`pack_arrays` on `.npy` files; write the dataset file `out` atomically.

    `recorded`: classes, name, ratio, seed as in `pack_arrays`. Returns the facts of the
    file: path, n_train, n_test, n_features, n_classes, n_flipped (known label errors).
    """

    def load(path: PathLike | None, what: str) -> np.ndarray | None:
        return None if path is None else load_npy(path, f"{what} file")

    ds = pack_arrays(
        load(x_train, "x_train"),
        load(y_train, "y_train"),
        x_test=load(x_test, "x_test"),
        y_test=load(y_test, "y_test"),
        y_clean=load(y_clean, "y_clean"),
        **recorded,
    )
    save_dataset(out, ds)
    return {
        "path": str(out),
        "n_train": int(ds.y_train.size),
        "n_test": int(ds.y_test.size),
        "n_features": int(ds.x_train.shape[1]),
        "n_classes": ds.n_classes,
        "n_flipped": int(ds.flipped.sum()),
    }
