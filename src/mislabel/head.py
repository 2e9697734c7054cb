"""A classifier's last linear layer, from any framework, as a model of this project.

Any classifier whose logits are ``features @ W + b`` (PyTorch's last ``nn.Linear`` has
``weight = W.T`` and ``bias = b``; scikit-learn's multinomial ``LogisticRegression`` has
``coef_ = W.T`` and ``intercept_ = b``) is, with its backbone frozen, a linear softmax
model of its penultimate features: an `MLP` without hidden layers whose ``head`` holds W
and b. Its loss is convex in (W, b), so the influence scores and Newton steps of the
library are exact in the limit. A head file is an ``.npz`` with arrays ``W`` (D x C) and
``b`` (C,).
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from mislabel.files.atomic import save_npz
from mislabel.model import MLP, Params, make_model


class HeadError(ValueError):
    """Features, labels or a head that do not fit together, with what to fix."""


def check_features(features_NxD, what: str = "features") -> np.ndarray:
    """Finite float features, shape (N, D), as float32 (float64 input is cast)."""
    x = np.asarray(features_NxD)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise HeadError(f"{what} must be a 2-D array (N samples x D features), got {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise HeadError(f"{what} must be numbers, got dtype {x.dtype}")
    x = x.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if bad.size:
        raise HeadError(f"{what} has NaN/Inf in {bad.size} rows (first: row {bad[0]})")
    return x


def check_labels(labels_N, n: int, n_classes: int, what: str = "labels") -> np.ndarray:
    """Integer labels 0..C-1 for `n` samples, as int32."""
    y = np.asarray(labels_N)
    if y.shape != (n,):
        raise HeadError(f"{what} must have shape ({n},) to match the features, got {y.shape}")
    if y.size and not (np.issubdtype(y.dtype, np.integer) or np.all(np.mod(y, 1) == 0)):
        raise HeadError(f"{what} must be integer class indices, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise HeadError(
            f"{what} must lie in 0..{n_classes - 1} (the head has {n_classes} outputs), "
            f"found {y.min()}..{y.max()}"
        )
    return y.astype(np.int32)


def check_head(W_DxC, b_C, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """W (D x C) and b (C,) of a linear head over `n_features` features, as float32."""
    W = np.asarray(W_DxC, np.float64)
    b = np.asarray(b_C, np.float64).reshape(-1)
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


def head_model(W_DxC, b_C) -> tuple[MLP, Params]:
    """The head as this project's model: an `MLP` without hidden layers, and its params."""
    W, b = np.asarray(W_DxC, np.float32), np.asarray(b_C, np.float32)
    model = make_model((), W.shape[1])
    return model, {"params": {"head": {"kernel": W, "bias": b}}}


def head_arrays(params: Params) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of a head model's parameters, float32."""
    head = params["params"]["head"]
    return np.asarray(head["kernel"], np.float32), np.asarray(head["bias"], np.float32)


def load_head(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """W and b from a head ``.npz``, or a HeadError saying what the file lacks."""
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {"W", "b"} - set(data.files)
            if missing:
                raise HeadError(
                    f"{path} has arrays {sorted(data.files)} but a head file needs W (D x C) "
                    f"and b (C,): np.savez('head.npz', W=..., b=...)"
                )
            return np.asarray(data["W"]), np.asarray(data["b"])
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        if isinstance(err, HeadError):
            raise
        raise HeadError(f"{path} is not a head file (an .npz with arrays W and b): {err}") from None


def save_head(path: str | os.PathLike, W_DxC: np.ndarray, b_C: np.ndarray) -> None:
    """Write a head ``.npz`` (W, b) atomically."""
    save_npz(path, W=np.asarray(W_DxC, np.float32), b=np.asarray(b_C, np.float32))
