"""Your own arrays as a dataset file: `mislabel.pack` and the `mislabel pack` command."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mislabel.data import to_float
from mislabel.files.arrays import as_features, load_npy
from mislabel.files.dataset import DatasetFileError, load_dataset_file, save_dataset
from mislabel.pack import pack_arrays, pack_files
from tests.test_cli import fails, ok

# (images, labels, what the refusal says)
BAD_ARRAYS = [
    (np.array([[0.5, 1.0], [2.0, np.nan]]), np.array([0, 1]), "x_train[1, 1] = nan is NaN"),
    (np.full((4, 3), 300), np.array([0, 1, 0, 1]), "0..255"),
    (np.zeros((4, 3), np.uint8), np.array([0, 1, 0]), "shape (3,)"),
    (np.zeros((4, 3), np.uint8), np.array([0.0, 1.0, 0.0, 1.0]), "integers"),
    (np.zeros((4, 3), np.uint8), np.array([0, 0, 0, 0]), "at least 2 classes"),
    (np.zeros((4, 3), np.uint8), np.array([0, 1, -1, 1]), "outside 0..1"),
    (np.zeros(4, np.uint8), np.array([0, 1, 0, 1]), "(n, D)"),
]


# --------------------------------------------------------------------------- the library


def test_uint8_and_small_integers_are_kept_as_pixels():
    x = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(as_features(x, "x"), x.reshape(2, 12))
    assert as_features(np.array([[0, 255]], np.int64), "x").dtype == np.uint8
    with pytest.raises(ValueError, match="dtype bool"):
        as_features(np.zeros((2, 2), bool), "x")


def test_float_features_are_stored_as_float32_bit_for_bit():
    x32 = np.random.default_rng(0).normal(0, 3, size=(5, 7)).astype(np.float32)
    out = as_features(x32, "x")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.view(np.uint32), x32.view(np.uint32))
    x64 = np.array([[0.1, -1e3, 2.0**-30]])  # float64: cast to float32 (nearest)
    out = as_features(x64, "x")
    assert out.dtype == np.float32 and out.tolist() == x64.astype(np.float32).tolist()


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        (np.nan, "x_train[1, 2] = nan is NaN or Inf (sample 1, feature 2; 2 of 8 values"),
        (-np.inf, "x_train[1, 2] = -inf is NaN or Inf"),
        (1e300, "x_train[1, 2] = 1e+300 overflows float32"),
    ],
)
def test_features_that_are_not_finite_are_refused_at_the_first_bad_index(bad, needle):
    x = np.zeros((2, 4))
    x[1, 2] = x[1, 3] = bad
    with pytest.raises(ValueError, match=re.escape(needle) + ".*drop or impute"):
        as_features(x, "x_train")


def test_pack_arrays_without_known_truth_or_test_split():
    ds = pack_arrays(np.zeros((4, 3), np.uint8), np.array([0, 2, 1, 2]), name="mine", seed=3)
    assert ds.y_train.dtype == np.int32 and ds.y_train.tolist() == ds.y_clean.tolist()
    assert not ds.flipped.any() and ds.noise_mode == "unknown"
    assert ds.classes.tolist() == [0, 1, 2] and (ds.dataset, ds.seed) == ("mine", 3)
    assert ds.x_test.shape == (0, 3) and ds.y_test.shape == (0,)


def test_pack_arrays_with_known_truth_and_a_test_split():
    x = np.zeros((4, 3), np.uint8)
    ds = pack_arrays(
        x, np.array([0, 1, 1, 1]), y_clean=np.array([0, 1, 0, 1]), x_test=x, y_test=np.ones(4, int)
    )
    assert ds.flipped.tolist() == [False, False, True, False] and ds.noise_mode == "known"
    with pytest.raises(ValueError, match="x_test has 2 features per sample, x_train 3"):
        pack_arrays(x, np.array([0, 1, 0, 1]), x_test=x[:, :2], y_test=np.ones(4, int))
    with pytest.raises(ValueError, match="both x_test and y_test"):
        pack_arrays(x, np.array([0, 1, 0, 1]), x_test=x)
    with pytest.raises(ValueError, match=re.escape("--classes has duplicates: [3, 3]")):
        pack_arrays(x, np.array([0, 1, 0, 1]), classes=[3, 3])


@pytest.mark.parametrize(("x", "y", "needle"), BAD_ARRAYS)
def test_pack_arrays_rejects_bad_arrays(x, y, needle):
    with pytest.raises(ValueError, match=re.escape(needle)):
        pack_arrays(x, y)


def test_load_npy_refuses_what_is_not_one_plain_array(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="is an .npz archive"):
        load_npy(tmp_path / "a.npz", "x_train file")
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable .npy array"):
        load_npy(tmp_path / "o.npy", "x_train file")
    with pytest.raises(FileNotFoundError, match="y_train file .* does not exist"):
        load_npy(tmp_path / "missing.npy", "y_train file")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        load_npy(tmp_path, "y_train file")


def test_pack_files_writes_the_dataset_and_returns_its_facts(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((6, 2, 2), np.uint8))
    np.save(tmp_path / "y.npy", np.array([0, 1, 0, 1, 0, 1]))
    np.save(tmp_path / "yc.npy", np.array([0, 1, 0, 1, 1, 1]))
    out = tmp_path / "ds.npz"
    facts = pack_files(
        out, tmp_path / "x.npy", tmp_path / "y.npy", y_clean=tmp_path / "yc.npy", ratio=0.2
    )
    assert facts == {
        "path": str(out),
        "n_train": 6,
        "n_test": 0,
        "n_features": 4,
        "n_classes": 2,
        "n_flipped": 1,
    }
    ds = load_dataset_file(out)
    assert ds.flipped.sum() == 1 and ds.ratio == 0.2 and ds.dataset == "custom"


@pytest.mark.parametrize(
    ("x_train", "x_test", "needle"),
    [
        (np.zeros((4, 3), np.float64), np.zeros((0, 3), np.float64), "dtypes float64/float64"),
        (np.zeros((4, 3), np.uint8), np.zeros((2, 3), np.float32), "dtypes uint8/float32"),
        (np.full((4, 3), np.inf, np.float32), np.zeros((0, 3), np.float32), "NaN or Inf"),
    ],
)
def test_the_dataset_file_holds_uint8_pixels_or_float32_features(x_train, x_test, needle, tmp_path):
    ds = pack_arrays(np.zeros((4, 3), np.float32), np.array([0, 1, 0, 1]))
    save_dataset(tmp_path / "ok.npz", ds)
    assert load_dataset_file(tmp_path / "ok.npz").x_train.dtype == np.float32
    bad = ds._replace(x_train=x_train, x_test=x_test, y_test=np.zeros(len(x_test), np.int32))
    with pytest.raises(DatasetFileError, match=re.escape(needle)):
        save_dataset(tmp_path / "bad.npz", bad)
    assert not (tmp_path / "bad.npz").exists()


# --------------------------------------------------------------------------- the command


def test_pack_float_features_and_known_truth(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, size=(10, 7)).astype(np.float32)  # embeddings, not pixels
    y = np.arange(10) % 3
    y_noisy = y.copy()
    y_noisy[0] = 2
    for name, arr in {"x": x, "y": y_noisy, "yc": y, "xt": x[:5], "yt": y[:5]}.items():
        np.save(tmp_path / f"{name}.npy", arr)
    out = tmp_path / "ds.npz"
    ok(
        f"pack --x-train {tmp_path / 'x.npy'} --y-train {tmp_path / 'y.npy'} "
        f"--y-clean {tmp_path / 'yc.npy'} --x-test {tmp_path / 'xt.npy'} "
        f"--y-test {tmp_path / 'yt.npy'} --classes 3 5 8 --out {out}",
        capsys,
    )
    ds = load_dataset_file(out)
    assert ds.x_train.dtype == ds.x_test.dtype == np.float32 and ds.x_train.shape == (10, 7)
    for stored, given in ((ds.x_train, x), (ds.x_test, x[:5])):  # bit for bit, to the model
        np.testing.assert_array_equal(to_float(stored).view(np.uint32), given.view(np.uint32))
    assert ds.flipped.tolist() == [True] + [False] * 9
    assert ds.classes.tolist() == [3, 5, 8] and ds.dataset == "custom" and ds.ratio == 0.0


def test_pack_float64_features_are_stored_as_float32(tmp_path):
    x = np.random.default_rng(1).normal(0, 3, size=(6, 2, 2))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.array([0, 1, 0, 1, 0, 1]))
    pack_files(tmp_path / "ds.npz", tmp_path / "x.npy", tmp_path / "y.npy")
    ds = load_dataset_file(tmp_path / "ds.npz")
    assert ds.x_train.dtype == ds.x_test.dtype == np.float32 and ds.x_test.shape == (0, 4)
    want = x.reshape(6, 4).astype(np.float32)
    np.testing.assert_array_equal(to_float(ds.x_train).view(np.uint32), want.view(np.uint32))


def test_pixels_and_features_are_not_mixed():
    x = np.zeros((4, 3), np.uint8)
    with pytest.raises(ValueError, match="x_test is stored as float32, x_train as uint8; give"):
        pack_arrays(x, np.array([0, 1, 0, 1]), x_test=x / 255.0, y_test=np.ones(4, int))


@pytest.mark.parametrize(("x", "y", "needle"), BAD_ARRAYS)
def test_pack_command_rejects_bad_arrays(x, y, needle, tmp_path, capsys):
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    out = tmp_path / "ds.npz"
    fails(
        f"pack --x-train {tmp_path / 'x.npy'} --y-train {tmp_path / 'y.npy'} --out {out}",
        capsys,
        needle,
    )
    assert not out.exists()


def test_pack_labels_outside_declared_classes(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((4, 3), np.uint8))
    np.save(tmp_path / "y.npy", np.array([0, 1, 2, 1]))
    fails(
        f"pack --x-train {tmp_path / 'x.npy'} --y-train {tmp_path / 'y.npy'} --classes 4 7 "
        f"--out {tmp_path / 'ds.npz'}",
        capsys,
        "y_train has labels 0..2, outside 0..1",
    )


def test_pack_test_images_need_test_labels(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((4, 3), np.uint8))
    fails(
        f"pack --x-train {tmp_path / 'x.npy'} --y-train {tmp_path / 'x.npy'} "
        f"--x-test {tmp_path / 'x.npy'} --out {tmp_path / 'ds.npz'}",
        capsys,
        "--y-test",
    )
