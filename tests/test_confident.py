"""Confident learning: cross-validation folds, vmapped fold models vs a loop of `train`,
cleanlab's count against a numpy confident joint (checked by hand), and a memorising model
whose own training loss misses the flips that the cross-validated scores find."""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import mislabel.detectors.confident_learning as confident
from mislabel.detectors.confident_learning import (
    confident_learning,
    confident_scores,
    cross_val_probs,
    fold_assignment,
)
from mislabel.network.mlp import make_model, per_sample_loss
from mislabel.network.train import train
from mislabel.noise import inject_noise
from mislabel.settings import TrainConfig
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


def calibrated_count(y, probs):
    """Northcutt et al.'s calibrated confident-joint estimate of the number of label issues.

    Threshold t_j = mean p_j over samples labelled j (2 for an absent label, floored at
    2e-6); sample i is confidently of class j if p_ij >= t_j - 1e-6 (the most probable one if
    several); C[given, confident] counts them, its diagonal at least 1; each row is scaled
    to its label count, rounded by largest remainders to keep the row total; the count is
    n - trace.
    """
    n, c = probs.shape
    counts = np.bincount(y, minlength=c)
    thresholds = np.array([probs[y == j, j].mean() if counts[j] else 2.0 for j in range(c)])
    confident = probs >= np.maximum(thresholds, 2e-6) - 1e-6
    joint = np.zeros((c, c))
    for i in np.flatnonzero(confident.any(axis=1)):
        classes = np.flatnonzero(confident[i])
        guess = classes[0] if classes.size == 1 else np.argmax(probs[i])
        joint[y[i], guess] += 1
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    scaled = joint / joint.sum(axis=1, keepdims=True) * counts[:, None]
    rounded = np.floor(scaled)
    for row in range(c):
        short = int(round(counts[row] - rounded[row].sum()))
        rounded[row, np.argsort(rounded[row] - scaled[row])[:short]] += 1
    return int(n - np.trace(rounded))


def test_calibrated_count_by_hand():
    """Thresholds 0.63 (class 0) and 0.625 (class 1). Confident classes: samples 0-3 -> 0,
    4 -> 1 (a flip), 5, 6 -> 1, 7 none, 8 -> 0 (a flip). C = [[4, 1], [1, 2]]; row 1 scaled to
    4 samples: [4/3, 8/3], rounded [1, 3]; trace 7 of 9: two issues."""
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])
    p1 = np.array([0.1, 0.2, 0.3, 0.35, 0.9, 0.8, 0.9, 0.6, 0.2])
    probs = np.stack([1 - p1, p1], axis=1)
    assert calibrated_count(y, probs) == 2
    assert confident_scores(y, probs)[1] == 2
    # Five more class-1 samples at [0.5, 0.5]: class 1's threshold drops to 5/9, so sample 7
    # turns confident (the five do not); row 1 [1, 3] scaled to 9: [2.25, 6.75] -> [2, 7];
    # trace 11 of 14: three issues.
    y9 = np.concatenate([y, np.ones(5, int)])
    probs9 = np.concatenate([probs, np.tile([0.5, 0.5], (5, 1))])
    assert calibrated_count(y9, probs9) == 3 and confident_scores(y9, probs9)[1] == 3


def test_confident_learning_scores_and_count_are_exact(problem):
    x, y, flipped, probs = problem
    scores, count = confident_scores(y, probs)
    np.testing.assert_allclose(scores, 1 - probs[np.arange(300), y], rtol=0, atol=1e-15)
    assert isinstance(count, int) and count == calibrated_count(y, probs)
    assert abs(count - flipped.sum()) <= 6  # 30 planted of 300
    s2, c2, ratio, info = confident_learning([16], x, y, 3, SEED, CONFIG, 5)
    np.testing.assert_array_equal(s2, scores)
    assert c2 == count and ratio == count / 300
    assert info["folds"] == 5 and info["seconds"] > 0 and info["warnings"] == []


def test_cross_validated_scores_find_the_flips_a_memorising_model_fits():
    """Two informative features and 400 noise features: a wide MLP fits every training label
    (the flips included), so its own training loss ranks the flips poorly, while each
    sample's probability from the model that never saw it still gives them away."""
    rng = np.random.default_rng(1)
    y_clean = (np.arange(200) % 2).astype(np.int32)
    signal = np.where(y_clean[:, None] == 1, 1.5, -1.5) + 0.5 * rng.normal(size=(200, 2))
    x = np.concatenate([signal, rng.normal(size=(200, 400))], axis=1).astype(np.float32)
    y, flipped = inject_noise(y_clean, 2, 0.2, "exact", seed=1)
    config = TrainConfig(lr=0.05, momentum=0.9, batch_size=16, epochs=100)
    model = make_model([64], 2)
    state, _ = train(model, x, y, 1, config)
    logits = model.apply(state.params, x)
    assert (np.argmax(logits, axis=1) == y).all()  # every flip memorised
    loss_auc = roc_auc_score(flipped, np.asarray(per_sample_loss(logits, y)))
    scores, _ = confident_scores(y, cross_val_probs([64], x, y, 2, 1, config, 5))
    cl_auc = roc_auc_score(flipped, scores)
    assert loss_auc < 0.72 and cl_auc > 0.88, (loss_auc, cl_auc)


def test_degenerate_predictions_are_handled():
    y = np.arange(60) % 2
    never_one = np.tile([0.98, 0.01, 0.01], (60, 1))  # class 1 never predicted, 2 never given
    scores, count = confident_scores(y, never_one)
    np.testing.assert_allclose(scores, np.where(y == 1, 0.99, 0.02))
    # Every sample is confidently class 0: C = [[30, 0, 0], [30, 1, 0], [0, 0, 1]] (diagonal
    # floored at 1); row 1 scaled to 30 samples: [29.03, 0.97, 0] -> [29, 1, 0]; 29 issues.
    assert count == calibrated_count(y, never_one) == 29
    assert confident_scores(y, np.eye(3)[y])[1] == 0
    assert confident_scores(y, np.eye(2)[1 - y])[1] == calibrated_count(y, np.eye(2)[1 - y])


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
