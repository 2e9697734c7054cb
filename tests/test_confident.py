"""Confident learning: cross-validation folds, vmapped fold models vs a loop of `train`, and
cleanlab's scores and count on planted flips."""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pytest
from cleanlab.rank import get_label_quality_scores
from sklearn.metrics import roc_auc_score

import mislabel.confident as confident
from mislabel.confident import (
    confident_learning,
    confident_scores,
    cross_val_probs,
    fold_assignment,
)
from mislabel.model import make_model
from mislabel.train import train
from tests.test_aum import CONFIG, planted

SEED = 3


@pytest.fixture(scope="module")
def problem():
    """Three classes, 300 samples, 10% flipped; cross-validated probabilities (5 folds)."""
    x, y, flipped = planted(300, 3, 0.1, seed=0)
    return x, y, flipped, cross_val_probs([16], x, y, 3, SEED, CONFIG, 5)


def test_folds_are_seeded_stratified_and_near_equal():
    y = np.repeat([0, 1, 2], [50, 31, 20])
    fold = fold_assignment(y, 4, seed=0)
    assert fold.shape == (101,) and set(fold.tolist()) == {0, 1, 2, 3}
    assert np.ptp(np.bincount(fold)) <= 1
    for c in range(3):
        assert np.ptp(np.bincount(fold[y == c], minlength=4)) <= 1
    np.testing.assert_array_equal(fold, fold_assignment(y, 4, seed=0))
    assert not np.array_equal(fold, fold_assignment(y, 4, seed=1))


def test_probs_are_distributions(problem):
    _, _, _, probs = problem
    assert probs.shape == (300, 3) and probs.dtype == np.float64
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    assert probs.min() >= 0


def test_vmapped_folds_equal_a_loop_of_train(problem):
    x, y, _, probs = problem
    fold = fold_assignment(y, 5, SEED)
    model = make_model([16], 3)
    for k in range(5):
        state, _ = train(model, x, y, SEED, CONFIG, keep_N=fold != k)
        expected = jax.nn.softmax(model.apply(state.params, x[fold == k]), axis=-1)
        np.testing.assert_allclose(probs[fold == k], expected, atol=1e-5)


def test_own_label_does_not_change_own_probs(problem):
    x, y, _, probs = problem
    fold = fold_assignment(y, 5, SEED)
    y_changed = np.where(fold == 2, (y + 1) % 3, y)
    changed = cross_val_probs([16], x, y_changed, 3, SEED, CONFIG, 5, fold_N=fold)
    np.testing.assert_allclose(changed[fold == 2], probs[fold == 2], rtol=0, atol=1e-7)
    assert np.abs(changed[fold != 2] - probs[fold != 2]).max() > 1e-3  # the others saw it


def test_confident_learning_finds_and_counts_planted_flips(problem):
    x, y, flipped, probs = problem
    scores, count = confident_scores(y, probs)
    assert roc_auc_score(flipped, scores) > 0.9
    assert isinstance(count, int) and abs(count - flipped.sum()) <= 15  # 30 planted of 300
    np.testing.assert_allclose(scores, 1 - get_label_quality_scores(y, probs))
    np.testing.assert_allclose(scores, 1 - probs[np.arange(300), y])
    s2, c2, ratio, info = confident_learning([16], x, y, 3, SEED, CONFIG, 5)
    np.testing.assert_array_equal(s2, scores)
    assert c2 == count and ratio == count / 300
    assert info["folds"] == 5 and info["seconds"] > 0 and info["warnings"] == []


def test_degenerate_predictions_are_handled():
    y = np.arange(60) % 2
    never_one = np.tile([0.98, 0.01, 0.01], (60, 1))  # class 1 never predicted, 2 never given
    scores, count = confident_scores(y, never_one)
    np.testing.assert_allclose(scores, np.where(y == 1, 0.99, 0.02))
    assert 20 <= count <= 30
    assert confident_scores(y, np.eye(3)[y])[1] == 0
    assert confident_scores(y, np.eye(2)[1 - y])[1] >= 55


def test_cleanlab_warnings_are_reissued_once(monkeypatch):
    def noisy(labels, pred_probs, estimation_method):
        warnings.warn("odd confident joint", stacklevel=1)
        warnings.warn("odd confident joint", stacklevel=1)
        return 1000

    monkeypatch.setattr(confident, "num_label_issues", noisy)
    y = np.arange(10) % 2
    with pytest.warns(UserWarning, match="^cleanlab: odd confident joint$") as record:
        _, count = confident_scores(y, np.eye(2)[y])
    assert len(record) == 1 and count == 10  # clipped to n
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        confident_scores(y, np.eye(2)[y], quiet=True)


def test_bad_input_is_refused():
    x, y, _ = planted(40, 2, 0.1, seed=0)
    with pytest.raises(ValueError, match="folds must be an integer >= 2"):
        cross_val_probs([4], x, y, 2, 0, CONFIG, 1)
    with pytest.raises(ValueError, match="cannot split 40 samples into 41 folds"):
        cross_val_probs([4], x, y, 2, 0, CONFIG, 41)
    with pytest.raises(ValueError, match="smallest training set has 20 samples"):
        cross_val_probs([4], x, y, 2, 0, CONFIG._replace(batch_size=32), 2)
    with pytest.raises(ValueError, match="fold_N must use every fold"):
        cross_val_probs([4], x, y, 2, 0, CONFIG, 3, fold_N=np.arange(40) % 2)
    with pytest.raises(ValueError, match="labels must lie"):
        cross_val_probs([4], x, y + 1, 2, 0, CONFIG, 2)
    with pytest.raises(ValueError, match="sum to 1"):
        confident_scores(y, np.full((40, 2), 0.6))
    with pytest.raises(ValueError, match="shape"):
        confident_scores(y[:-1], np.full((40, 2), 0.5))
    with pytest.raises(ValueError, match="non-negative"):
        confident_scores(y, np.tile([1.5, -0.5], (40, 1)))
    with pytest.raises(ValueError, match="two distinct"):
        confident_scores(np.zeros(40, int), np.full((40, 2), 0.5))
