"""AUM: hand-computed scores, detection of planted flips, and the threshold-sample estimate."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import roc_auc_score

from mislabel.detectors.aum import (
    aum_flags,
    aum_scores,
    aum_threshold,
    threshold_from_aum,
    threshold_samples,
)
from mislabel.network.mlp import make_model, margins
from mislabel.network.train import train
from mislabel.noise import inject_noise, n_flips
from mislabel.settings import TrainConfig

CONFIG = TrainConfig(lr=0.05, momentum=0.9, batch_size=16, epochs=10)


def planted(
    n: int, n_classes: int, ratio: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Well-separated Gaussian blobs in 10-D with exactly `ratio` of each class flipped.

    Returns (x (n, 10) float32, noisy labels (n,), flipped mask (n,)).
    """
    x, y = make_blobs(n, 10, centers=n_classes, center_box=(-3, 3), random_state=seed)
    noisy, flipped = inject_noise(y, n_classes, ratio, mode="exact", seed=seed)
    return x.astype(np.float32), noisy, flipped


def test_aum_scores_are_minus_the_mean_margin():
    margin_ExN = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -0.5]])
    np.testing.assert_allclose(aum_scores(margin_ExN), [-2.0, 1.0, 0.0])
    logits_ExNxC = np.random.default_rng(0).normal(size=(4, 6, 3)).astype(np.float32)
    y_N = np.array([0, 1, 2, 0, 1, 2])
    per_epoch = np.stack([np.asarray(margins(lg, y_N)) for lg in logits_ExNxC])
    expected = [-np.mean([per_epoch[e, i] for e in range(4)]) for i in range(6)]
    np.testing.assert_allclose(aum_scores(per_epoch), expected, rtol=1e-6)


def test_aum_scores_reject_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        aum_scores(np.zeros(5))
    with pytest.raises(ValueError, match="shape"):
        aum_scores(np.zeros((0, 5)))


def test_flags_are_aum_below_threshold():
    aum_N = np.array([-1.0, 0.2, 0.5, 2.0])
    np.testing.assert_array_equal(aum_flags(-aum_N, 0.5), aum_N < 0.5)


def test_threshold_from_aum_by_hand():
    aum_N = np.array([-3.0, -1.0, 1.0, -2.0, 0.0, 2.0, 3.0])
    is_threshold_N = np.array([1, 1, 1, 0, 0, 0, 0], bool)
    threshold, ratio = threshold_from_aum(aum_N, is_threshold_N, 50.0)
    assert threshold == -1.0 and ratio == 0.25  # only -2 of the other four is below -1
    threshold, ratio = threshold_from_aum(aum_N, is_threshold_N, 100.0)
    assert threshold == 1.0 and ratio == 0.5
    with pytest.raises(ValueError, match="both"):
        threshold_from_aum(aum_N, np.ones(7, bool), 99.0)


def test_threshold_samples_are_a_seeded_fraction():
    idx = threshold_samples(100, 3, seed=0)
    assert idx.size == 25 and np.unique(idx).size == 25 and np.all(np.diff(idx) > 0)
    np.testing.assert_array_equal(idx, threshold_samples(100, 3, seed=0))
    assert not np.array_equal(idx, threshold_samples(100, 3, seed=1))
    with pytest.raises(ValueError, match="too few"):
        threshold_samples(2, 2, seed=0)


def test_aum_ranks_planted_flips_first():
    x, y, flipped = planted(300, 2, 0.15, seed=0)
    _, history = train(make_model([16], 2), x, y, 0, CONFIG)
    scores = aum_scores(history.margin_ExN)
    assert scores.shape == (300,)
    assert roc_auc_score(flipped, scores) > 0.9


@pytest.mark.parametrize("ratio", [0.1, 0.2])
def test_threshold_estimates_the_noise_ratio(ratio):
    # Four classes: the fake class holds 1/5 of the data, close to the paper's regime.
    # (With two classes it holds 1/3 and the 99th-percentile cut-off overestimates.)
    x, y, flipped = planted(1000, 4, ratio, seed=1)
    result = aum_threshold([16], x, y, 4, 0, CONFIG)
    assert abs(result.estimated_ratio - flipped.mean()) < 0.05
    assert isinstance(result.estimated_count, int) and 0 <= result.estimated_count <= 1000
    assert result.estimated_count == n_flips(result.estimated_ratio, 1000)
    assert result.n_threshold == 200
    assert result.info["n_below"] == round(result.estimated_ratio * 800)
    again = aum_threshold([16], x, y, 4, 0, CONFIG)
    assert again[:4] == result[:4]
    other = aum_threshold([16], x, y, 4, 1, CONFIG)
    assert other.threshold != result.threshold


def test_aum_threshold_rejects_bad_input():
    x, y, _ = planted(60, 2, 0.1, seed=0)
    with pytest.raises(ValueError, match="percentile"):
        aum_threshold([4], x, y, 2, 0, CONFIG, percentile=101.0)
    with pytest.raises(ValueError, match="labels"):
        aum_threshold([4], x, y + 1, 2, 0, CONFIG)
    with pytest.raises(ValueError, match="n_classes"):
        aum_threshold([4], x, y, 1, 0, CONFIG)
    with pytest.raises(ValueError, match="2-D"):
        aum_threshold([4], x[:, 0], y, 2, 0, CONFIG)
    with pytest.raises(ValueError, match="batch_size"):
        aum_threshold([4], x[:10], y[:10], 2, 0, CONFIG)
