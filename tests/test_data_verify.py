"""The four arrays of a dataset: shape and dtype checks, then SHA-256 against the expected
hashes, each refusal with a message that names the array."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from mislabel.data.verify import (
    ARRAY_KEYS,
    CANONICAL_SHA256,
    ChecksumMismatchError,
    array_sha256,
    check_shapes,
    verify_arrays,
)


def tiny() -> dict[str, np.ndarray]:
    """Five training and four test images of 28x28, uint8."""
    rng = np.random.default_rng(0)
    return {
        "train_images": rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8),
        "train_labels": np.arange(5, dtype=np.uint8),
        "test_images": rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8),
        "test_labels": np.arange(4, dtype=np.uint8),
    }


def test_the_hash_is_of_the_raw_bytes_whatever_the_memory_layout():
    x = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert array_sha256(x) == hashlib.sha256(x.tobytes()).hexdigest()
    assert array_sha256(np.asfortranarray(x)) == array_sha256(x)


def test_arrays_with_their_own_hashes_pass():
    arrays = tiny()
    verify_arrays(arrays, {k: array_sha256(arrays[k]) for k in ARRAY_KEYS})


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"test_labels": None}, r"missing arrays \['test_labels'\]"),
        ({"train_labels": np.arange(5)}, r"train_labels has dtype int64, expected uint8"),
        (
            {"test_images": np.zeros((4, 784), np.uint8)},
            r"test_images has shape \(4, 784\), expected \(N, 28, 28\)",
        ),
        (
            {"train_labels": np.zeros(3, np.uint8)},
            r"train_labels has shape \(3,\), expected \(5,\) to match train_images",
        ),
    ],
)
def test_wrong_shapes_and_dtypes_are_refused_by_name(change, match):
    arrays = {**tiny(), **change}
    arrays = {k: v for k, v in arrays.items() if v is not None}
    with pytest.raises(ValueError, match=match):
        check_shapes(arrays)


def test_a_changed_byte_is_a_mismatch_that_names_both_hashes():
    arrays = tiny()
    expected = {k: array_sha256(arrays[k]) for k in ARRAY_KEYS}
    arrays["test_images"][0, 0, 0] ^= 1
    actual = array_sha256(arrays["test_images"])
    with pytest.raises(ChecksumMismatchError) as err:
        verify_arrays(arrays, expected)
    assert str(err.value) == (
        f"checksum mismatch for test_images: expected sha256 {expected['test_images']}, "
        f"got {actual}"
    )
    assert isinstance(err.value, ValueError)


def test_every_dataset_has_a_hash_for_each_array():
    for name, hashes in CANONICAL_SHA256.items():
        assert sorted(hashes) == sorted(ARRAY_KEYS), name
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes.values()), name
