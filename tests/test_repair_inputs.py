"""Every bad input of the repair commands is refused before any work: one line naming the
file and the fix, exit status 2, nothing written; one range for every --ratio."""

from __future__ import annotations

import shlex

import numpy as np
import pytest

from mislabel.cli import main
from mislabel.repair.head import save_head
from tests.test_cli import fails, train_tiny


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Valid features, labels and head of 10 classes, and a folder of bad ones."""
    root = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    y = np.arange(200) % 10
    np.save(root / "x.npy", rng.normal(size=(200, 6)).astype(np.float32))
    np.save(root / "y.npy", y)
    save_head(root / "head.npz", rng.normal(size=(6, 10)), np.zeros(10))
    bad = {
        "bool.npy": y > 4,
        "one_class.npy": np.zeros(200, int),
        "three_classes.npy": y % 3,
        "strings.npy": np.array([f"c{v}" for v in y]),
        "empty.npy": np.zeros((0, 6), np.float32),
        "nan.npy": np.where(np.arange(1200).reshape(200, 6) == 7, np.nan, 1.0),
        "short.npy": y[:150],
        "x3.npy": rng.normal(size=(3, 6)),
        "y3.npy": np.array([0, 1, 2]),
        "x5cols.npy": rng.normal(size=(50, 5)),
    }
    for name, array in bad.items():
        np.save(root / name, array)
    np.savez(root / "archive.npz", x=np.zeros((3, 6)))
    save_head(root / "head3.npz", rng.normal(size=(6, 3)), np.zeros(3))
    return root


def head_command(root, **changes) -> str:
    args = {"features": "x.npy", "labels": "y.npy", "head": "head.npz", "out": "out.npz"}
    args |= changes
    line = "repair-head -q " + " ".join(f"--{k} {root / v}" for k, v in args.items() if v)
    return line


CASES = [
    ({"labels": "bool.npy"}, ["--labels", "bool.npy", "booleans", "integer class indices"]),
    ({"labels": "one_class.npy"}, ["one_class.npy", "uses 1 of the head's 10 classes"]),
    ({"labels": "three_classes.npy"}, ["uses 3 of the head's 10", "at least 5"]),
    ({"labels": "strings.npy"}, ["strings.npy", "map class names to indices"]),
    ({"labels": "short.npy"}, ["short.npy", "(200,)"]),
    ({"features": "empty.npy"}, ["--features", "empty.npy", "(0, 6)", "at least one"]),
    ({"features": "nan.npy"}, ["nan.npy", "NaN", "drop or impute"]),
    ({"features": "archive.npz"}, ["archive.npz", "numpy.save"]),
    ({"head": "y.npy"}, ["head", "y.npy", "single .npy array", "np.savez"]),
    (
        {"features": "x3.npy", "labels": "y3.npy", "head": "head3.npz"},
        ["x3.npy", "3 samples", "--holdout-features", "--folds"],
    ),
    ({"holdout-features": "x5cols.npy", "holdout-labels": "y.npy"}, ["x5cols.npy", "5 columns"]),
    ({"holdout-features": "x.npy"}, ["--holdout-features and --holdout-labels"]),
]


@pytest.mark.parametrize(("changes", "needles"), CASES)
def test_a_bad_input_is_one_line_and_nothing_is_written(files, capsys, changes, needles):
    report = files / "report"
    command = head_command(files, **changes) + f" --report-dir {report}"
    fails(command, capsys, *needles)
    assert not (files / "out.npz").exists() and not report.exists()


def test_a_report_folder_never_holds_an_input(files, capsys):
    for folder in (files, files / ".."):
        fails(head_command(files) + f" --report-dir {folder}", capsys, "holds the input")
    assert not (files / "out.npz").exists()


@pytest.mark.parametrize(
    "command",
    [
        "noise --raw r.npz --out o.npz",
        "pack --x-train x.npy --y-train y.npy --out o.npz",
        "score --data d.npz --model m.msgpack --out o.npz --info i.json",
        "repair --data d.npz --model m.msgpack --out o.msgpack",
        "repair-head --features x.npy --labels y.npy --head h.npz --out o.npz",
    ],
)
def test_every_ratio_has_one_range_stated_in_the_help(command, capsys):
    name = command.split()[0]
    assert main([name, "--help"]) == 0
    assert "in [0, 0.5]" in " ".join(capsys.readouterr().out.split())
    for bad in ("0.6", "-0.1"):
        code = main(shlex.split(f"{command} --ratio {bad}"))
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "must be in [0, 0.5]" in err[0], err


def test_repair_without_enough_samples_names_its_own_options(tmp_path, capsys):
    trained = train_tiny(tmp_path)
    from mislabel.files.dataset import load_dataset_file, save_dataset

    full = load_dataset_file(trained["dataset"])
    few = tmp_path / "few.npz"
    save_dataset(few, full._replace(x_test=full.x_test[:0], y_test=full.y_test[:0]))
    last = fails(
        f"repair --data {few} --model {trained['model']} --ratio 0.1 --folds 40 "
        f"--out {tmp_path / 'o.msgpack'}",
        capsys,
        "--data",
        "too few",
        "--folds",
        "mislabel pack --x-test",
    )
    assert "holdout" not in last  # repair has no --holdout options
    fails(
        f"repair --data {trained['dataset']} --model {trained['model']} --ratio 0.1 "
        f"--out {tmp_path / 'o.msgpack'} --report-dir {tmp_path}",
        capsys,
        "holds the input",
    )
    assert not (tmp_path / "o.msgpack").exists()


def test_pack_refuses_class_ids_that_are_not_indices(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((40, 3)))
    np.save(tmp_path / "y.npy", np.array([0, 10**12] * 20))
    fails(
        f"pack --x-train {tmp_path / 'x.npy'} --y-train {tmp_path / 'y.npy'} "
        f"--out {tmp_path / 'p.npz'}",
        capsys,
        "class ids, not class indices",
        "--classes",
    )
    assert not (tmp_path / "p.npz").exists()


def test_a_head_too_large_for_the_memory_budget_is_refused_before_any_work(files, capsys):
    """The cross-fit's removal and the closed-form steps need the dense (P, P) Hessian; the
    influence detectors need their curvature: each is sized against --memory-budget first."""
    tiny = " --memory-budget 0.00001"  # GiB: about 10 kB
    fails(
        head_command(files) + tiny,
        capsys,
        "removing each cross-fit fold",
        "P = 70 parameters",
        "--holdout-features",
        "--memory-budget of at least",
    )
    holdout = head_command(files, **{"holdout-features": "x.npy", "holdout-labels": "y.npy"})
    fails(holdout + " --unlearner ssse" + tiny, capsys, "the ssse step", "conjugate gradients")
    fails(
        holdout + " --detector if_self --unlearner neggrad_plus" + tiny,
        capsys,
        "curvature of a head with P = 60 parameters",
        "more than the memory budget",
    )
    assert not (files / "out.npz").exists()
