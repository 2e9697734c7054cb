"""Test-set metrics equal scikit-learn's on random and hand-built cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mislabel.metrics import accuracy, agreement, balanced_accuracy, per_class_accuracy


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
    assert per_class_accuracy(y, pred, 3)[:2] == [0.75, 0.5]
    assert np.isnan(per_class_accuracy(y, pred, 3)[2])
    assert balanced_accuracy(y, pred) == pytest.approx(0.625)
    assert agreement(pred, y) == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="shapes differ"):
        accuracy(y, pred[:-1])
