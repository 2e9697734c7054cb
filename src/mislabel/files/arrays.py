"""Samples and labels from `.npy` files, checked and converted: uint8 pixels or float32
features (`as_features`), integer labels (`as_labels`). Used by `mislabel pack` and by the
workflow's own-features dataset (`mislabel.data.features`). Every refusal is a ValueError
(or FileNotFoundError / IsADirectoryError) naming the array at fault.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

PathLike = str | os.PathLike


def load_npy(path: PathLike, what: str) -> np.ndarray:
    """One array from a `.npy` file, without pickles; `what` names the file in errors."""
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{what} {p} is a directory, expected a file")
    if not p.is_file():
        raise FileNotFoundError(f"{what} {p} does not exist")
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f"{what} {path} is not a readable .npy array ({err})") from err
    if not isinstance(arr, np.ndarray):
        arr.close()
        raise ValueError(f"{what} {path} is an .npz archive; save the array with numpy.save")
    return arr


def as_features(x: np.ndarray, what: str) -> np.ndarray:
    """Samples (n, D) or (n, H, W, ...) as (n, D): uint8 pixels or float32 features.

    uint8 is kept and integers 0..255 become uint8 pixels; floats of any finite range are
    stored as float32 bit for bit (float64 is cast to float32, rounding to nearest).
    """
    if x.ndim < 2 or x.shape[0] == 0 or x.size == 0:
        raise ValueError(f"{what} has shape {x.shape}; expected (n, D) with n >= 1 samples")
    x = x.reshape(x.shape[0], -1)
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.integer):
        if x.min() < 0 or x.max() > 255:
            raise ValueError(
                f"{what} holds integers in {x.min()}..{x.max()}; integer pixels must be "
                "0..255 (pass other features as floats)"
            )
        return x.astype(np.uint8)
    if np.issubdtype(x.dtype, np.floating):
        with np.errstate(over="ignore"):  # float64 beyond float32's range: refused below
            out = x.astype(np.float32)
        bad = ~np.isfinite(out)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            reason = "is NaN or Inf" if not np.isfinite(x[i, j]) else "overflows float32"
            raise ValueError(
                f"{what}[{i}, {j}] = {x[i, j]} {reason} (sample {i}, feature {j}; "
                f"{int(bad.sum())} of {x.size} values are not finite as float32); features "
                "must be finite numbers: drop or impute those samples before packing"
            )
        return out
    raise ValueError(
        f"{what} has dtype {x.dtype}; expected uint8 pixels (integers 0..255) or float features"
    )


def as_labels(y: np.ndarray, what: str, n: int) -> np.ndarray:
    """Integer labels of shape (n,), as int64 (range checked by the caller)."""
    if y.shape != (n,):
        raise ValueError(f"{what} has shape {y.shape}, expected ({n},) to match x")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{what} has dtype {y.dtype}; labels must be integers 0..C-1")
    return y.astype(np.int64)
