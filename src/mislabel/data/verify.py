"""The four arrays of a dataset: their names, shapes and canonical SHA-256 checksums.

Hashes are of the decoded uint8 arrays (`arr.tobytes()`, IDX header stripped), so they do
not depend on how a file was compressed. Every source in `mislabel.data.sources` is
accepted only if `verify_arrays` passes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mislabel.files.atomic import sha256_bytes

ARRAY_KEYS = ("train_images", "train_labels", "test_images", "test_labels")

# SHA-256 of `arr.tobytes()` for each decoded uint8 array.
CANONICAL_SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train_images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "train_labels": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
        "test_images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "test_labels": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    },
    # Computed from Debian's dataset-fashion-mnist (0.0~git20200523.55506a9-1); checked:
    # 60000/10000 images of 28x28, 6000/1000 per class, first labels 9 0 0 3 0 2 7 2 5 5.
    "fashion_mnist": {
        "train_images": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
        "train_labels": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
        "test_images": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
        "test_labels": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
    },
}

Arrays = dict[str, np.ndarray]


class ChecksumMismatchError(ValueError):
    """A source delivered arrays whose SHA-256 differs from the canonical value."""


def array_sha256(arr: np.ndarray) -> str:
    """Hex SHA-256 of a C-contiguous array's raw bytes (no shape, no dtype)."""
    return sha256_bytes(np.ascontiguousarray(arr).tobytes())


def check_shapes(arrays: Mapping[str, np.ndarray]) -> None:
    """Raise ValueError unless the four arrays are uint8 images (N,28,28) and labels (N,)."""
    missing = [k for k in ARRAY_KEYS if k not in arrays]
    if missing:
        raise ValueError(f"missing arrays {missing}; expected {list(ARRAY_KEYS)}")
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        for key, arr in ((f"{split}_images", images), (f"{split}_labels", labels)):
            if arr.dtype != np.uint8:
                raise ValueError(f"{key} has dtype {arr.dtype}, expected uint8")
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"{split}_images has shape {images.shape}, expected (N, 28, 28)")
        if labels.shape != (images.shape[0],):
            raise ValueError(
                f"{split}_labels has shape {labels.shape}, expected ({images.shape[0]},) "
                f"to match {split}_images"
            )


def verify_arrays(arrays: Mapping[str, np.ndarray], expected: Mapping[str, str]) -> None:
    """Check shapes and that every array hashes to `expected[key]`.

    Raises:
      ValueError: wrong dtype or shape.
      ChecksumMismatchError: a hash differs (message gives expected and actual hash).
    """
    check_shapes(arrays)
    for key in ARRAY_KEYS:
        actual = array_sha256(arrays[key])
        if actual != expected[key]:
            raise ChecksumMismatchError(
                f"checksum mismatch for {key}: expected sha256 {expected[key]}, got {actual}"
            )
