"""Metrics: detection quality of flags and scores, and test accuracy of a model.

All in numpy: importing scikit-learn costs a process a second; the tests check each
metric against scikit-learn's.
"""

from __future__ import annotations

import numpy as np


def detection_metrics(flipped_N: np.ndarray, scores_N: np.ndarray, flagged_N: np.ndarray) -> dict:
    """ROC AUC of the scores, and accuracy/precision/recall/F1 of the flags.

    The mislabeled (flipped) samples are the positive class. ROC AUC is NaN when all samples
    are of one kind (it is undefined); precision/recall are 0 when they have no denominator.
    In numpy alone (importing scikit-learn costs a `score` call 0.6-1 s, more than the
    scoring itself); the tests check every value against scikit-learn's. ROC AUC is the
    Mann-Whitney statistic (ties count one half): the area under the ROC curve that
    scikit-learn integrates.
    """
    flipped_N = np.asarray(flipped_N, bool)
    flagged_N = np.asarray(flagged_N, bool)
    scores_N = np.asarray(scores_N, np.float64)
    n_pos = int(flipped_N.sum())
    n_neg = flipped_N.size - n_pos
    auc = float("nan")
    if n_pos and n_neg:
        order = np.argsort(scores_N, kind="stable")
        _, first, counts = np.unique(scores_N[order], return_index=True, return_counts=True)
        ranks = np.repeat(first + (counts + 1) / 2, counts)  # 1-based, ties averaged
        rank_sum = float(ranks[flipped_N[order]].sum())  # half-integers: exact
        auc = (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    tp = int((flagged_N & flipped_N).sum())
    fp = int((flagged_N & ~flipped_N).sum())
    fn = int((~flagged_N & flipped_N).sum())
    return {
        "n": int(flipped_N.size),
        "m": int(flagged_N.sum()),
        "n_mislabeled": n_pos,
        "roc_auc": auc,
        "accuracy": float(np.mean(flipped_N == flagged_N)),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
    }


def accuracy(y_true_N: np.ndarray, y_pred_N: np.ndarray) -> float:
    """Fraction of correct predictions (numpy: importing scikit-learn costs a second per
    evaluate job; tests check the result equals sklearn's)."""
    y_true_N, y_pred_N = np.asarray(y_true_N), np.asarray(y_pred_N)
    if y_true_N.shape != y_pred_N.shape:
        raise ValueError(f"label shapes differ: {y_true_N.shape} vs {y_pred_N.shape}")
    return float(np.mean(y_true_N == y_pred_N))


def balanced_accuracy(y_true_N: np.ndarray, y_pred_N: np.ndarray) -> float:
    """Mean of the per-class accuracies over the classes present (the authors' test
    metric; equals sklearn's balanced_accuracy_score, checked by the tests)."""
    y_true_N, y_pred_N = np.asarray(y_true_N), np.asarray(y_pred_N)
    classes = np.unique(y_true_N)
    return float(np.mean([np.mean(y_pred_N[y_true_N == c] == c) for c in classes]))


def agreement(y_pred_N: np.ndarray, y_ref_N: np.ndarray) -> float:
    """Fraction of samples on which two models predict the same class."""
    y_pred_N, y_ref_N = np.asarray(y_pred_N), np.asarray(y_ref_N)
    if y_pred_N.shape != y_ref_N.shape:
        raise ValueError(f"prediction shapes differ: {y_pred_N.shape} vs {y_ref_N.shape}")
    return float(np.mean(y_pred_N == y_ref_N))


def param_distance(params_a, params_b) -> float:
    """L2 distance between two models' parameters (all leaves, flattened; float64)."""
    import jax

    leaves_a = jax.tree_util.tree_leaves(params_a)
    leaves_b = jax.tree_util.tree_leaves(params_b)
    shapes_a = [np.shape(leaf) for leaf in leaves_a]
    shapes_b = [np.shape(leaf) for leaf in leaves_b]
    if shapes_a != shapes_b:
        raise ValueError(f"the models have different architectures: {shapes_a} vs {shapes_b}")
    total = sum(
        float(np.sum((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
        for a, b in zip(leaves_a, leaves_b, strict=True)
    )
    return float(np.sqrt(total))
