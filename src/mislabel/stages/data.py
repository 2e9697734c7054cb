"""Stage fetch and inject_noise: the verified dataset, then its class subset with noisy labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mislabel.catalog import DATASETS, FEATURES
from mislabel.data.features import check_feature_arrays, read_feature_files
from mislabel.data.sources import RawDataset, load_dataset, read_cache
from mislabel.data.subset import select_subset
from mislabel.data.verify import CANONICAL_SHA256, verify_arrays
from mislabel.files.atomic import save_npz
from mislabel.files.dataset import NoisyDataset, save_dataset
from mislabel.noise import inject_noise
from mislabel.stages.common import PathLike


def fetch_dataset(
    out_dir: PathLike,
    *,
    dataset: str = "mnist",
    source_dir: PathLike | None = None,
    features: Mapping[str, PathLike] | None = None,
) -> Path:
    """Load a dataset into `out_dir/{dataset}.npz`: a built-in one through its verified
    source chain, or, for `dataset="features"`, your own `.npy` files (`features`: the
    paths under `mislabel.catalog.FEATURE_FILES`), checked.

    For a built-in dataset that file is the source chain's verified cache: a second call
    only re-verifies it.
    """
    path = Path(out_dir) / f"{dataset}.npz"
    if dataset == FEATURES:
        save_npz(path, **read_feature_files(features or {}))
        return path
    raw = load_dataset(dataset, out_dir, source_dir=source_dir)
    if not path.is_file():  # loaded from an existing cache elsewhere: keep a copy here
        save_npz(
            path,
            train_images=raw.train_images,
            train_labels=raw.train_labels,
            test_images=raw.test_images,
            test_labels=raw.test_labels,
        )
    return path


def read_raw(path: PathLike, dataset: str):
    """Read a fetched dataset file (`fetch_dataset`'s output): a built-in dataset's SHA-256
    is verified again, own features are checked for consistency."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {list(DATASETS)}")
    try:
        arrays = read_cache(Path(path))
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{path} does not exist; run `mislabel fetch` first") from err
    if dataset == FEATURES:
        check_feature_arrays(arrays, str(path))
    else:
        verify_arrays(arrays, CANONICAL_SHA256[dataset])
    return RawDataset(**arrays, name=dataset)


def make_noisy_dataset(
    raw_path: PathLike,
    out_path: PathLike,
    *,
    dataset: str = "mnist",
    classes: Sequence[int],
    train_per_class: int,
    subset: str,
    noise_mode: str,
    ratio: float,
    seed: int,
    noise_positions: str = "random",
    test_per_class: int | None = None,
) -> dict:
    """Select the class subset, inject label noise, write the noisy dataset file.

    `noise_positions` and `test_per_class` are those of `mislabel.noise.inject_noise` and
    `mislabel.data.subset.select_subset`.
    """
    raw = read_raw(raw_path, dataset)
    sub = select_subset(raw, classes, train_per_class, subset, seed, test_per_class)
    noisy, flipped = inject_noise(
        sub.y_train, sub.classes.size, ratio, noise_mode, seed, noise_positions
    )
    ds = NoisyDataset(
        sub.x_train,
        noisy,
        sub.y_train.astype(np.int32),
        flipped,
        sub.x_test,
        sub.y_test.astype(np.int32),
        sub.classes.astype(np.int32),
        raw.name,
        float(ratio),
        int(seed),
        noise_mode,
    )
    save_dataset(out_path, ds)
    return {
        "n_train": int(noisy.size),
        "n_flipped": int(flipped.sum()),
        "n_test": int(sub.y_test.size),
    }
