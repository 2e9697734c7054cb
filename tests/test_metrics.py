"""Test-set metrics equal scikit-learn's on random and hand-built cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mislabel.metrics import (
    accuracy,
    agreement,
    balanced_accuracy,
    detection_metrics,
)


@pytest.mark.parametrize("seed", range(5))
def test_accuracies_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, 200)
    pred = np.where(rng.random(200) < 0.7, y, rng.integers(0, 3, 200))
    assert accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred))
    assert balanced_accuracy(y, pred) == pytest.approx(skm.balanced_accuracy_score(y, pred))


def test_hand_built_case():
    y = np.array([0, 0, 0, 0, 1, 1])
    pred = np.array([0, 0, 0, 1, 0, 1])
    assert accuracy(y, pred) == pytest.approx(4 / 6)
    assert balanced_accuracy(y, pred) == pytest.approx(0.625)
    assert agreement(pred, y) == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="shapes differ"):
        accuracy(y, pred[:-1])


def test_detection_metrics_equal_scikit_learns():
    from sklearn import metrics as skm

    def with_sklearn(flipped, scores, flagged):
        both = flipped.any() and not flipped.all()
        return {
            "n": int(flipped.size),
            "m": int(flagged.sum()),
            "n_mislabeled": int(flipped.sum()),
            "roc_auc": float(skm.roc_auc_score(flipped, scores)) if both else float("nan"),
            "accuracy": float(skm.accuracy_score(flipped, flagged)),
            "precision": float(skm.precision_score(flipped, flagged, zero_division=0)),
            "recall": float(skm.recall_score(flipped, flagged, zero_division=0)),
            "f1": float(skm.f1_score(flipped, flagged, zero_division=0)),
        }

    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 200))
        flipped = rng.random(n) < rng.random()
        scores = rng.normal(size=n)
        if trial % 3 == 0:
            scores = np.round(scores, 1)  # ties
        if trial % 7 == 0:
            scores = np.zeros(n)
        flagged = rng.random(n) < rng.random()
        ours = detection_metrics(flipped, scores, flagged)
        theirs = with_sklearn(flipped, scores, flagged)
        assert ours.keys() == theirs.keys()
        for key, value in theirs.items():
            assert type(ours[key]) is type(value), key
            if np.isnan(value):
                assert np.isnan(ours[key])
            else:
                assert ours[key] == pytest.approx(value, abs=1e-12), (trial, key)
