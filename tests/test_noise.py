"""Label noise: rates, exact counts, determinism, never a flip to the same class."""

from __future__ import annotations

import numpy as np
import pytest

from mislabel.noise import inject_noise, n_flips


def _labels(n_per_class: int, n_classes: int) -> np.ndarray:
    return np.tile(np.arange(n_classes), n_per_class).astype(np.int32)


def _check_invariants(labels, noisy, flipped, n_classes):
    assert noisy.dtype == np.int32 and noisy.shape == labels.shape
    assert flipped.dtype == np.bool_ and flipped.shape == labels.shape
    np.testing.assert_array_equal(flipped, noisy != labels)
    assert noisy.min() >= 0 and noisy.max() < n_classes


@pytest.mark.parametrize("ratio", [0.01, 0.1, 0.3, 0.5])
def test_symmetric_rate_within_binomial_bounds(ratio):
    labels = _labels(1000, 2)
    n = len(labels)
    sigma = np.sqrt(n * ratio * (1 - ratio))
    counts = []
    for seed in range(50):
        noisy, flipped = inject_noise(labels, 2, ratio, "symmetric", seed)
        _check_invariants(labels, noisy, flipped, 2)
        assert abs(flipped.sum() - n * ratio) < 4 * sigma
        counts.append(flipped.sum())
    # the mean over 50 seeds is much tighter
    assert abs(np.mean(counts) - n * ratio) < 4 * sigma / np.sqrt(50)


@pytest.mark.parametrize("ratio", [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.99])
@pytest.mark.parametrize("n_classes", [2, 3, 10])
def test_exact_counts_per_class(ratio, n_classes):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, n_classes, size=537).astype(np.int64)
    noisy, flipped = inject_noise(labels, n_classes, ratio, "exact", seed=3)
    _check_invariants(labels, noisy, flipped, n_classes)
    for c in range(n_classes):
        in_c = labels == c
        assert (
            flipped[in_c].sum()
            == int(np.floor(ratio * in_c.sum() + 0.5))
            == n_flips(ratio, in_c.sum())
        )


def test_exact_uses_random_positions():
    labels = _labels(100, 2)
    _, a = inject_noise(labels, 2, 0.1, "exact", seed=0)
    _, b = inject_noise(labels, 2, 0.1, "exact", seed=1)
    assert not np.array_equal(a, b)
    assert not a[:20].all()  # not simply the first ones of each class


@pytest.mark.parametrize("mode", ["symmetric", "exact"])
def test_ten_classes_targets_roughly_uniform(mode):
    n_classes = 10
    labels = _labels(2000, n_classes)
    noisy, flipped = inject_noise(labels, n_classes, 0.5, mode, seed=7)
    _check_invariants(labels, noisy, flipped, n_classes)
    for c in range(n_classes):
        targets = noisy[flipped & (labels == c)]
        assert not (targets == c).any()
        counts = np.bincount(targets, minlength=n_classes)
        assert counts[c] == 0
        others = np.delete(counts, c)
        expected = len(targets) / (n_classes - 1)
        sigma = np.sqrt(expected)
        assert np.all(np.abs(others - expected) < 4.5 * sigma), others


@pytest.mark.parametrize("mode", ["symmetric", "exact"])
def test_binary_flip_goes_to_other_class(mode):
    labels = _labels(500, 2)
    noisy, flipped = inject_noise(labels, 2, 0.4, mode, seed=2)
    np.testing.assert_array_equal(noisy[flipped], 1 - labels[flipped])
    np.testing.assert_array_equal(noisy[~flipped], labels[~flipped])


@pytest.mark.parametrize("mode", ["symmetric", "exact"])
def test_deterministic_given_seed(mode):
    labels = _labels(300, 3)
    a = inject_noise(labels, 3, 0.2, mode, seed=11)
    b = inject_noise(labels, 3, 0.2, mode, seed=11)
    c = inject_noise(labels, 3, 0.2, mode, seed=12)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("mode", ["symmetric", "exact"])
def test_zero_ratio_flips_nothing(mode):
    labels = _labels(100, 4)
    noisy, flipped = inject_noise(labels, 4, 0.0, mode, seed=0)
    assert not flipped.any()
    np.testing.assert_array_equal(noisy, labels)


@pytest.mark.parametrize("ratio", [0.01, 0.05, 0.3, 0.5])
def test_exact_first_flips_the_first_samples_of_each_class(ratio):
    # The authors' code: the first round(r * n_c) samples of each class, in dataset order.
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 2, size=2000).astype(np.int32)
    noisy, flipped = inject_noise(labels, 2, ratio, "exact", seed=9, positions="first")
    _check_invariants(labels, noisy, flipped, 2)
    expected = np.zeros(labels.shape, bool)
    for c in (0, 1):
        members = [i for i, y in enumerate(labels.tolist()) if y == c]
        k = int(ratio * len(members) + 0.5)
        expected[members[:k]] = True
    np.testing.assert_array_equal(flipped, expected)
    # positions do not depend on the seed
    _, again = inject_noise(labels, 2, ratio, "exact", seed=123, positions="first")
    np.testing.assert_array_equal(flipped, again)


def test_input_not_modified():
    labels = _labels(50, 2)
    before = labels.copy()
    inject_noise(labels, 2, 0.3, "symmetric", seed=0)
    np.testing.assert_array_equal(labels, before)


def test_empty_labels():
    noisy, flipped = inject_noise(np.zeros(0, dtype=np.int32), 2, 0.3)
    assert noisy.shape == flipped.shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ratio": 1.0}, r"0 <= ratio < 1, got 1.0"),
        ({"ratio": -0.1}, r"0 <= ratio < 1, got -0.1"),
        ({"ratio": float("nan")}, r"0 <= ratio < 1, got nan"),
        ({"n_classes": 1}, r"n_classes must be an integer >= 2, got 1"),
        ({"n_classes": 2.5}, r"n_classes must be an integer >= 2, got 2.5"),
        ({"mode": "pairflip"}, r"unknown noise mode 'pairflip'"),
        ({"positions": "last"}, r"unknown noise positions 'last'"),
        ({"positions": "first"}, r"positions 'first' need noise mode 'exact'"),
        ({"labels": np.array([0, 1, 2])}, r"labels must lie in 0..1 .*found range 0..2"),
        ({"labels": np.array([-1, 1])}, r"labels must lie in 0..1"),
        ({"labels": np.array([0.0, 1.0])}, r"labels must be integers"),
        ({"labels": np.zeros((2, 2), dtype=int)}, r"labels must be 1-D"),
    ],
)
def test_errors(kwargs, match):
    args = {"labels": np.array([0, 1, 1, 0]), "n_classes": 2, "ratio": 0.1, "mode": "symmetric"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        inject_noise(**args)
