"""The noisy-dataset file passed between stages, validated on load."""

from __future__ import annotations

import os
import zipfile
from typing import NamedTuple

import numpy as np

from mislabel.files.atomic import save_npz

# What x_train / x_test may hold: uint8 pixels or float32 features.
SAMPLE_DTYPES = (np.dtype(np.uint8), np.dtype(np.float32))


class DatasetFileError(ValueError):
    """A dataset file is missing, corrupt, or inconsistent."""


class NoisyDataset(NamedTuple):
    """A class subset with injected label noise.

    x_train (n, D) and x_test (t, D), both of one dtype: uint8 pixels (scaled to [0, 1] by
    `mislabel.data.to_float`) or float32 features (used as they are); y_train (n,) int32
    noisy labels in 0..C-1; y_clean (n,) int32; flipped (n,) bool; y_test (t,) int32;
    classes (C,) int32 original class ids; plus how it was made.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    y_clean: np.ndarray
    flipped: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray
    dataset: str
    ratio: float
    seed: int
    noise_mode: str

    @property
    def n_classes(self) -> int:
        return int(self.classes.size)


def save_dataset(path: str | os.PathLike, ds: NoisyDataset) -> None:
    """Write the dataset atomically as an uncompressed `.npz`."""
    validate(ds, str(path))
    save_npz(path, **{k: np.asarray(v) for k, v in ds._asdict().items()})


def load_dataset_file(path: str | os.PathLike) -> NoisyDataset:
    """Read and validate a noisy-dataset `.npz` written by `mislabel noise` or `mislabel pack`
    (x_train / x_test: uint8 pixels or float32 features, returned as stored)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in NoisyDataset._fields if k not in npz.files]
            if missing:
                raise DatasetFileError(
                    f"dataset file {path} lacks {missing}; write it with `mislabel noise` or "
                    "`mislabel pack`"
                )
            fields = {k: npz[k] for k in NoisyDataset._fields}
    except FileNotFoundError as err:
        raise DatasetFileError(f"dataset file {path} does not exist") from err
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        if isinstance(err, DatasetFileError):
            raise
        raise DatasetFileError(f"dataset file {path} is corrupt or truncated ({err})") from err
    ds = NoisyDataset(
        **{
            k: fields[k]
            for k in ("x_train", "y_train", "y_clean", "flipped", "x_test", "y_test", "classes")
        },
        dataset=str(fields["dataset"]),
        ratio=float(fields["ratio"]),
        seed=int(fields["seed"]),
        noise_mode=str(fields["noise_mode"]),
    )
    validate(ds, str(path))
    return ds


def validate(ds: NoisyDataset, where: str) -> None:
    """Raise DatasetFileError if shapes, dtypes or label ranges are inconsistent."""
    n, t = ds.x_train.shape[0], ds.x_test.shape[0]
    problems = []
    if ds.x_train.ndim != 2 or ds.x_test.ndim != 2 or ds.x_train.shape[1] != ds.x_test.shape[1]:
        problems.append(
            f"x_train {ds.x_train.shape} and x_test {ds.x_test.shape} must be (n, D) and (t, D)"
        )
    for name, arr, size in (
        ("y_train", ds.y_train, n),
        ("y_clean", ds.y_clean, n),
        ("flipped", ds.flipped, n),
        ("y_test", ds.y_test, t),
    ):
        if arr.shape != (size,):
            problems.append(f"{name} has shape {arr.shape}, expected ({size},)")
    dtypes = (ds.x_train.dtype, ds.x_test.dtype)
    if dtypes[0] != dtypes[1] or dtypes[0] not in SAMPLE_DTYPES:
        problems.append(
            f"x_train/x_test have dtypes {dtypes[0]}/{dtypes[1]}; both must be uint8 pixels "
            "or both float32 features (write the file with `mislabel pack`)"
        )
    elif dtypes[0] == np.float32 and not (
        np.isfinite(ds.x_train).all() and np.isfinite(ds.x_test).all()
    ):
        problems.append("x_train/x_test hold NaN or Inf; features must be finite")
    c = ds.classes.size
    if c < 2:
        problems.append(f"need at least 2 classes, got {c}")
    for name, arr in (("y_train", ds.y_train), ("y_clean", ds.y_clean), ("y_test", ds.y_test)):
        if arr.size and (arr.min() < 0 or arr.max() >= c):
            problems.append(
                f"{name} has labels outside 0..{c - 1} (min {arr.min()}, max {arr.max()})"
            )
    if not problems and not np.array_equal(ds.flipped, ds.y_train != ds.y_clean):
        problems.append("flipped does not equal (y_train != y_clean)")
    if problems:
        raise DatasetFileError(f"dataset {where} is inconsistent: " + "; ".join(problems))
