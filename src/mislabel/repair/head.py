"""A classifier's last linear layer, from any framework: its file and the checks of what
comes with it (NumPy only: the command line checks every input before it imports JAX).

Any classifier whose logits are ``features @ W + b`` (PyTorch's last ``nn.Linear`` has
``weight = W.T`` and ``bias = b``; scikit-learn's multinomial ``LogisticRegression`` has
``coef_ = W.T`` and ``intercept_ = b``) is, with its backbone frozen, a linear softmax
model of its penultimate features, convex in (W, b). A head file is an ``.npz`` with
arrays ``W`` (D x C) and ``b`` (C,).

Every check raises `HeadError` (a ValueError) in one line that names the input (``what``,
e.g. ``"labels y.npy"``) and the fix.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from mislabel.files.atomic import save_npz


class HeadError(ValueError):
    """Features, labels or a head that do not fit together, with what to fix."""


def check_features(features_NxD, what: str = "features") -> np.ndarray:
    """Finite numeric features, shape (N, D) with N, D >= 1, as float32."""
    x = np.asarray(features_NxD)
    if x.dtype == bool or not (
        np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)
    ):
        raise HeadError(f"{what} holds {x.dtype} values; features must be numbers (float)")
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise HeadError(
            f"{what} has shape {x.shape}; features must be a 2-D array, N samples x D "
            "features, with at least one of each"
        )
    with np.errstate(over="ignore"):
        x = x.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if bad.size:
        raise HeadError(
            f"{what} has NaN, Inf or float32-overflowing values in {bad.size} rows (first: "
            f"row {bad[0]}); drop or impute those samples"
        )
    return x


def check_labels(
    labels_N, n: int, n_classes: int, what: str = "labels", *, min_classes: float = 0
) -> np.ndarray:
    """Integer labels 0..C-1 for `n` samples, as int32.

    `min_classes`: refuse labels that use fewer distinct classes (a training set must use
    at least two, and at least half of the head's classes: fewer means the labels and the
    head do not belong together).
    """
    y = np.asarray(labels_N)
    if y.dtype == bool:
        raise HeadError(
            f"{what} holds booleans; labels must be integer class indices 0..{n_classes - 1} "
            "(save them as integers, e.g. y.astype(int))"
        )
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise HeadError(
            f"{what} holds {y.dtype} values; labels must be integer class indices "
            f"0..{n_classes - 1} (map class names to indices first)"
        )
    if y.shape != (n,):
        raise HeadError(f"{what} has shape {y.shape}; it must be ({n},), one label per sample")
    if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y) & (np.mod(y, 1) == 0)):
        raise HeadError(f"{what} holds non-integer values; labels must be class indices")
    if y.min() < 0 or y.max() >= n_classes:
        raise HeadError(
            f"{what} holds labels {y.min():g}..{y.max():g}, outside 0..{n_classes - 1} (the "
            f"head has {n_classes} outputs); labels must index the head's classes"
        )
    used = np.unique(y).size
    if used < min_classes:
        raise HeadError(
            f"{what} uses {used} of the head's {n_classes} classes; the labels must use at "
            f"least {int(np.ceil(min_classes))}: are these the labels this head was "
            "trained on? (for a subset of classes, keep only their columns of W and b)"
        )
    return y.astype(np.int32)


def training_min_classes(n_classes: int) -> int:
    """How many of the head's classes the training labels must use: 2, and half of them."""
    return max(2, int(np.ceil(n_classes / 2)))


def check_head(W_DxC, b_C, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """W (D x C) and b (C,) of a linear head over `n_features` features, as float32."""
    W, b = np.asarray(W_DxC), np.asarray(b_C).reshape(-1)
    for name, a in (("W", W), ("b", b)):
        if a.dtype == bool or not (
            np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)
        ):
            raise HeadError(f"{name} holds {a.dtype} values; a head's W and b are numbers")
    W, b = W.astype(np.float64), b.astype(np.float64)
    if W.ndim != 2:
        raise HeadError(f"W must be 2-D (D features x C classes), got shape {W.shape}")
    if W.shape[0] != n_features and W.shape[1] == n_features:
        raise HeadError(
            f"W has shape {W.shape}: it looks transposed (a PyTorch nn.Linear weight is C x D;"
            f" pass weight.T)"
        )
    if W.shape[0] != n_features:
        raise HeadError(f"W has {W.shape[0]} rows but the features have {n_features} columns")
    if W.shape[1] < 2 or b.shape != (W.shape[1],):
        raise HeadError(
            f"b must have shape ({W.shape[1]},) and C >= 2, got W {W.shape}, b {b.shape}"
        )
    if not (np.isfinite(W).all() and np.isfinite(b).all()):
        raise HeadError("W or b contains NaN/Inf")
    return W.astype(np.float32), b.astype(np.float32)


def load_head(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """W and b from a head ``.npz``, or a HeadError saying what the file is and lacks."""
    how = "a head file is an .npz with W (D x C) and b (C,): np.savez('head.npz', W=..., b=...)"
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise HeadError(f"head {path} cannot be read as .npz ({err}); {how}") from None
    if isinstance(data, np.ndarray):
        raise HeadError(f"head {path} is a single .npy array; {how}")
    with data:
        missing = {"W", "b"} - set(data.files)
        if missing:
            raise HeadError(f"head {path} has arrays {sorted(data.files)}, not W and b; {how}")
        try:
            return np.asarray(data["W"]), np.asarray(data["b"])
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise HeadError(f"head {path} is damaged ({err}); {how}") from None


def save_head(path: str | os.PathLike, W_DxC: np.ndarray, b_C: np.ndarray) -> None:
    """Write a head ``.npz`` (W, b) atomically."""
    save_npz(path, W=np.asarray(W_DxC, np.float32), b=np.asarray(b_C, np.float32))
