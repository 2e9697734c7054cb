"""Class subsets (`select_subset`: first or random per class, test cap, errors) and pixel
scaling (`to_float`)."""

from __future__ import annotations

import numpy as np
import pytest

from mislabel.data.sources import RawDataset
from mislabel.data.subset import select_subset, to_float

# --------------------------------------------------------------------------- subsets


def raw_fixture() -> RawDataset:
    """Train labels 0..4 cycling (so classes interleave); test labels likewise."""
    n_train, n_test = 50, 20
    images = np.arange(n_train * 784, dtype=np.int64).reshape(n_train, 28, 28) % 251
    test = (np.arange(n_test * 784, dtype=np.int64).reshape(n_test, 28, 28) * 7) % 253
    return RawDataset(
        train_images=images.astype(np.uint8),
        train_labels=(np.arange(n_train) % 5).astype(np.uint8),
        test_images=test.astype(np.uint8),
        test_labels=(np.arange(n_test) % 5).astype(np.uint8),
        name="fake",
    )


def test_subset_first():
    raw = raw_fixture()
    sub = select_subset(raw, classes=[3, 1], train_per_class=4)
    # classes 1 and 3 sit at positions 1,3,6,8,11,13,16,18,...; the first 4 of each
    expected_idx = np.array([1, 3, 6, 8, 11, 13, 16, 18])
    np.testing.assert_array_equal(sub.x_train, raw.train_images[expected_idx].reshape(8, 784))
    np.testing.assert_array_equal(sub.y_train, [1, 0, 1, 0, 1, 0, 1, 0])  # 3 -> 0, 1 -> 1
    assert sub.x_train.dtype == np.uint8 and sub.x_train.shape == (8, 784)
    assert sub.y_train.dtype == np.int32
    np.testing.assert_array_equal(sub.classes, [3, 1])
    assert sub.classes.dtype == np.int32
    test_idx = np.flatnonzero(np.isin(raw.test_labels, [1, 3]))
    assert len(test_idx) == 8  # every test image of the classes
    np.testing.assert_array_equal(sub.x_test, raw.test_images[test_idx].reshape(-1, 784))
    np.testing.assert_array_equal(sub.y_test, np.where(raw.test_labels[test_idx] == 3, 0, 1))
    assert sub.y_test.dtype == np.int32


def test_subset_test_per_class_keeps_the_first_test_images():
    raw = raw_fixture()  # test labels cycle 0..4, so classes 1 and 3 sit at 1,3,6,8,11,13,...
    sub = select_subset(raw, classes=[3, 1], train_per_class=4, test_per_class=2)
    expected_idx = np.array([1, 3, 6, 8])  # the first two 1s (1, 6) and 3s (3, 8)
    np.testing.assert_array_equal(sub.x_test, raw.test_images[expected_idx].reshape(-1, 784))
    np.testing.assert_array_equal(sub.y_test, [1, 0, 1, 0])
    everything = select_subset(raw, classes=[3, 1], train_per_class=4, test_per_class=100)
    assert everything.y_test.size == 8  # a cap above the class size keeps all of them
    with pytest.raises(ValueError, match="test_per_class must be a positive integer"):
        select_subset(raw, classes=[3, 1], train_per_class=4, test_per_class=0)


def test_subset_random():
    raw = raw_fixture()
    a = select_subset(raw, [0, 2], 5, subset="random", seed=1)
    b = select_subset(raw, [0, 2], 5, subset="random", seed=1)
    c = select_subset(raw, [0, 2], 5, subset="random", seed=2)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    first = select_subset(raw, [0, 2], 5, subset="first")
    assert not np.array_equal(a.x_train, first.x_train)
    assert np.bincount(a.y_train).tolist() == [5, 5]
    # rows are distinct training images, kept in dataset order
    flat = raw.train_images.reshape(len(raw.train_images), -1)
    idx = [int(np.flatnonzero((flat == row).all(axis=1))[0]) for row in a.x_train]
    assert idx == sorted(idx) and len(set(idx)) == 10
    np.testing.assert_array_equal(raw.train_labels[idx], np.array([0, 2])[a.y_train])


def test_subset_all_available():
    raw = raw_fixture()
    sub = select_subset(raw, [0, 1, 2, 3, 4], 10, subset="random")
    np.testing.assert_array_equal(sub.x_train, raw.train_images.reshape(50, 784))
    np.testing.assert_array_equal(sub.y_train, raw.train_labels)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"classes": [1]}, r"at least 2 classes"),
        ({"classes": []}, r"at least 2 classes"),
        ({"classes": [1, 2, 1]}, r"duplicate classes \[1\]"),
        ({"classes": [1, 7]}, r"classes \[7\] are not among the training labels \[0, 1, 2, 3, 4\]"),
        ({"classes": [0.5, 1.0]}, r"classes must be integers"),
        ({"train_per_class": 0}, r"train_per_class must be a positive integer or None, got 0"),
        ({"train_per_class": 2.5}, r"train_per_class must be a positive integer or None, got 2.5"),
        ({"train_per_class": 11}, r"class 1 has only 10 training images"),
        ({"subset": "last"}, r"unknown subset mode 'last'.*\['first', 'random'\]"),
    ],
)
def test_subset_errors(kwargs, match):
    args = {"classes": [1, 2], "train_per_class": 3, "subset": "first"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        select_subset(raw_fixture(), **args)


def test_to_float():
    x = np.array([[0, 128, 255]], dtype=np.uint8)
    out = to_float(x)
    assert out.dtype == np.float32 and out.shape == (1, 3)
    np.testing.assert_allclose(out, [[0.0, 128 / 255, 1.0]], rtol=1e-7)
    with pytest.raises(ValueError, match="expects uint8 pixels, got dtype float64"):
        to_float(x / 255.0)
