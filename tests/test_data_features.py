"""Own features as the workflow's dataset (`mislabel.data.features`), and the stages that
fetch them and inject noise into them, on small arrays."""

from __future__ import annotations

import numpy as np
import pytest

from mislabel.catalog import FEATURE_FILES
from mislabel.data.features import class_counts, read_feature_files
from mislabel.files.dataset import load_dataset_file
from mislabel.stages.data import fetch_dataset, make_noisy_dataset, read_raw
from mislabel.workflow import config as wc


def write(folder, x_train, y_train, x_test, y_test) -> dict[str, str]:
    files = {}
    for key, array in zip(FEATURE_FILES, (x_train, y_train, x_test, y_test), strict=True):
        files[key] = str(folder / f"{key}.npy")
        np.save(files[key], array)
    return files


def arrays(n=60, d=5, classes=(2, 5, 7), dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 10, size=(n, d)).astype(dtype)
    y = np.asarray(classes)[np.arange(n) % len(classes)]
    return x, y, x[: n // 2] + 1, y[: n // 2]


def test_fetch_then_noise_keep_float32_features_bit_for_bit(tmp_path):
    x, y, xt, yt = arrays()
    files = write(tmp_path, x, y, xt, yt)
    raw = fetch_dataset(tmp_path / "data", dataset="features", features=files)
    assert raw.name == "features.npz"
    facts = make_noisy_dataset(
        raw,
        tmp_path / "noisy.npz",
        dataset="features",
        classes=[7, 2, 5],
        train_per_class=None,
        subset="first",
        noise_mode="symmetric",
        ratio=0.3,
        seed=1,
    )
    ds = load_dataset_file(tmp_path / "noisy.npz")
    assert facts["n_train"] == 60 and facts["n_flipped"] > 0
    assert ds.x_train.dtype == np.float32 and ds.x_train.tobytes() == x.tobytes()
    assert ds.x_test.tobytes() == xt.tobytes()
    np.testing.assert_array_equal(ds.classes, [7, 2, 5])
    np.testing.assert_array_equal(ds.classes[ds.y_clean], y)  # labels are positions in classes
    assert ds.n_classes == 3 and ds.dataset == "features"


def test_float64_features_are_rounded_to_float32(tmp_path):
    x, y, xt, yt = arrays(dtype=np.float64)
    files = write(tmp_path, x + 1e-9, y, xt, yt)
    got = read_feature_files(files)
    assert got["train_images"].dtype == np.float32
    np.testing.assert_array_equal(got["train_images"], (x + 1e-9).astype(np.float32))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"x_test": np.zeros((30, 3), np.float32)}, "train has 5 features per sample, test 3"),
        ({"y_train": np.zeros(59, np.int64)}, "train labels have shape (59,)"),
        ({"y_train": -np.ones(60, np.int64)}, "class ids must be integers >= 0"),
        ({"y_train": np.zeros(60)}, "labels must be integers"),
        ({"x_train": np.full((60, 5), np.nan)}, "is NaN or Inf"),
        ({"x_test": np.zeros((30, 5), np.uint8)}, "train samples are float32, test samples uint8"),
    ],
)
def test_inconsistent_features_are_refused_naming_the_array(tmp_path, change, words):
    x, y, xt, yt = arrays()
    given = {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt} | change
    files = write(tmp_path, *given.values())
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        fetch_dataset(tmp_path / "data", dataset="features", features=files)
    assert not (tmp_path / "data" / "features.npz").exists()


def test_a_missing_file_is_named(tmp_path):
    files = write(tmp_path, *arrays())
    files["test_labels"] = str(tmp_path / "nope.npy")
    with pytest.raises(FileNotFoundError, match="test_labels unset or not a file"):
        read_feature_files(files)


def test_a_tampered_fetched_file_is_refused(tmp_path):
    raw = fetch_dataset(tmp_path, dataset="features", features=write(tmp_path, *arrays()))
    with np.load(raw) as npz:
        stored = dict(npz)
    np.savez(raw, **(stored | {"test_images": stored["test_images"][:, :2]}))
    with pytest.raises(ValueError, match="train has 5 features per sample, test 2"):
        read_raw(raw, "features")


def test_config_check_reads_the_class_counts(tmp_path):
    files = write(tmp_path, *arrays(n=61))
    assert class_counts(files["train_labels"]) == {2: 21, 5: 20, 7: 20}
    base = {
        "dataset": "features",
        "features": files,
        "classes": [2, 5, 9],
        "train_per_class": 21,
        "pipeline_detector": "loss",
        "detectors": ["loss"],
        "noise_ratios": [0.1],
        "histogram_ratio": 0.1,
        "targets": ["mislabeled"],
        "budget_estimator": "cleanlab",
        "noise_positions": "random",
        "noise_mode": "symmetric",
        "summary_dir": "s",
        "paper_dir": "p",
        "loo_samples": 4,
        "batch_size": 8,
    }
    problems = wc.cross_check(base)
    assert problems == [
        "train_per_class=21 exceeds the 20 training samples of class 5 in features; lower "
        "train_per_class",
        "classes contains 9, but features has classes [2, 5, 7]",
    ]
    assert wc.cross_check(base | {"classes": [2, 5, 7], "train_per_class": None}) == []
    assert (
        "loo_samples=31 is more than half the 61"
        in wc.cross_check(
            base | {"classes": [2, 5, 7], "train_per_class": None, "loo_samples": 31}
        )[0]
    )
    assert (
        "features is set, but dataset='mnist'"
        in wc.cross_check(base | {"dataset": "mnist", "classes": [0, 1], "train_per_class": 10})[0]
    )
