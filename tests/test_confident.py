"""Confident learning: cross-validation folds, vmapped fold models vs a loop of `train`,
the calibrated confident-joint count checked by hand (and against cleanlab where it is
installed), and a memorising model whose own training loss misses the flips that the
cross-validated scores find."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mislabel.detectors.confident_learning import (
    confident_learning,
    confident_scores,
    cross_val_probs,
    fold_assignment,
)
from mislabel.detectors.probabilities import (
    calibrate_joint,
    calibrated_count,
    check_probs,
    class_thresholds,
    confident_joint,
    round_row,
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


def test_calibrated_count_by_hand():
    """Thresholds 0.63 (class 0) and 0.625 (class 1). Confident classes: samples 0-3 -> 0,
    4 -> 1 (a flip), 5, 6 -> 1, 7 none, 8 -> 0 (a flip). C = [[4, 1], [1, 2]]; row 1 scaled to
    4 samples: [4/3, 8/3], rounded [1, 3]; trace 7 of 9: two issues."""
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])
    p1 = np.array([0.1, 0.2, 0.3, 0.35, 0.9, 0.8, 0.9, 0.6, 0.2])
    probs = np.stack([1 - p1, p1], axis=1)
    np.testing.assert_allclose(class_thresholds(y, probs), [0.63, 0.625])
    np.testing.assert_array_equal(confident_joint(y, probs), [[4, 1], [1, 2]])
    np.testing.assert_array_equal(calibrate_joint(confident_joint(y, probs), y), [[4, 1], [1, 3]])
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
    assert count == hand_count(y, probs)
    assert abs(count - flipped.sum()) <= 6  # 30 planted of 300
    s2, c2, ratio, info = confident_learning([16], x, y, 3, SEED, CONFIG, 5)
    np.testing.assert_array_equal(s2, scores)
    assert c2 == count and ratio == count / 300
    assert (
        info["folds"] == 5
        and info["seconds"] > 0
        and info["count_method"] == "off_diagonal_calibrated"
    )


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
    assert count == calibrated_count(y, never_one) == hand_count(y, never_one) == 29
    assert confident_scores(y, np.eye(3)[y])[1] == 0
    assert confident_scores(y, np.eye(2)[1 - y])[1] == calibrated_count(y, np.eye(2)[1 - y])


def hand_count(y, probs):
    """The calibrated count written out loop by loop, from the paper's definitions: t_j the
    mean p_j of class j; sample i counted at [y_i, most probable confident class]; the
    joint's diagonal at least 1; rows scaled to label counts, rounded keeping row totals
    (ties aside); n - trace."""
    n, c = probs.shape
    joint = np.zeros((c, c))
    thresholds = [probs[y == j, j].mean() if (y == j).any() else 2.0 for j in range(c)]
    for i in range(n):
        confident = [j for j in range(c) if probs[i, j] >= max(thresholds[j], 2e-6) - 1e-6]
        if confident:
            joint[y[i], max(confident, key=lambda j: probs[i, j])] += 1
    for j in range(c):
        joint[j, j] = max(joint[j, j], 1)
    trace = 0
    for j in range(c):
        scaled = joint[j] / joint[j].sum() * (y == j).sum()
        rounded = np.floor(scaled)
        short = int(round(scaled.sum() - rounded.sum()))
        rounded[np.argsort(rounded - scaled)[:short]] += 1  # largest remainders
        trace += rounded[j]
    return int(n - trace)


def test_rounding_keeps_row_totals():
    np.testing.assert_array_equal(round_row(np.array([1 / 3, 1 / 3, 1 / 3])), [0, 0, 1])
    np.testing.assert_array_equal(round_row(np.array([2.6, 2.6, 2.8])), [2, 3, 3])
    np.testing.assert_array_equal(round_row(np.array([0.5, 1.5, 1.0])), [0, 2, 1])  # to even
    np.testing.assert_array_equal(round_row(np.array([4.0, 0.0])), [4, 0])


def random_probs(rng, kind, n, c):
    """Dirichlet, quantised (ties), one-hot, float32-rounded or uniform rows (unnormalised)."""
    if kind == 0:
        return rng.dirichlet(np.full(c, rng.choice([0.1, 1.0, 5.0])), size=n)
    if kind == 1:
        return rng.integers(0, 4, size=(n, c)) + 1e-9
    if kind == 2:
        return np.eye(c)[rng.integers(0, c, n)]
    if kind == 3:
        return rng.dirichlet(np.ones(c), size=n).astype(np.float32)
    return np.ones((n, c))


def test_the_count_equals_cleanlab_on_random_inputs():
    """Dirichlet, quantised (ties), one-hot, float32-rounded and uniform probabilities, 2 to
    10 classes, some classes never given; the count and the scores to the last bit."""
    cleanlab_count = pytest.importorskip("cleanlab.count")
    cleanlab_rank = pytest.importorskip("cleanlab.rank")
    rng = np.random.default_rng(0)
    for trial in range(1500):
        c, n = int(rng.choice([2, 2, 3, 5, 10])), int(rng.choice([3, 9, 20, 50, 400]))
        probs = random_probs(rng, trial % 5, n, c)
        probs = probs / probs.sum(axis=1, keepdims=True)
        used = rng.choice(c, size=int(rng.integers(2, c + 1)), replace=False)
        y = rng.choice(used, size=n)
        if np.unique(y).size < 2:
            continue
        scores, count = confident_scores(y, probs)
        _, probs = check_probs(y, probs)  # float64, renormalised, as confident_scores does
        expected = cleanlab_count.num_label_issues(
            y, probs, estimation_method="off_diagonal_calibrated"
        )
        quality = cleanlab_rank.get_label_quality_scores(y, probs, method="self_confidence")
        assert count == expected, (trial, count, expected)
        np.testing.assert_array_equal(scores, 1 - quality)


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
