"""Test-set metrics of a model: accuracy, balanced (mean per-class) accuracy, agreement."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def accuracy(y_true_N: np.ndarray, y_pred_N: np.ndarray) -> float:
    """Fraction of correct predictions."""
    return float(skm.accuracy_score(y_true_N, y_pred_N))


def balanced_accuracy(y_true_N: np.ndarray, y_pred_N: np.ndarray) -> float:
    """Mean of the per-class accuracies (the authors' test metric)."""
    return float(skm.balanced_accuracy_score(y_true_N, y_pred_N))


def per_class_accuracy(y_true_N: np.ndarray, y_pred_N: np.ndarray, n_classes: int) -> list[float]:
    """Accuracy on each class's samples (NaN for a class without samples)."""
    y_true_N, y_pred_N = np.asarray(y_true_N), np.asarray(y_pred_N)
    out = []
    for c in range(n_classes):
        mask = y_true_N == c
        out.append(float(np.mean(y_pred_N[mask] == c)) if mask.any() else float("nan"))
    return out


def agreement(y_pred_N: np.ndarray, y_ref_N: np.ndarray) -> float:
    """Fraction of samples on which two models predict the same class."""
    y_pred_N, y_ref_N = np.asarray(y_pred_N), np.asarray(y_ref_N)
    if y_pred_N.shape != y_ref_N.shape:
        raise ValueError(f"prediction shapes differ: {y_pred_N.shape} vs {y_ref_N.shape}")
    return float(np.mean(y_pred_N == y_ref_N))
