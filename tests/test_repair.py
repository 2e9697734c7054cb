"""`mislabel repair` and `mislabel.repair.model_repair.repair_model`: flag the likely
mislabeled samples of a trained model, unlearn them, and write the result only when it is
shown not to be worse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mislabel.cli.commands.repair import repair_summary
from mislabel.files.checkpoint import load_model
from mislabel.repair.model_repair import repair_model
from mislabel.repair.procedure import RepairRefused
from tests.test_cli import TINY_TRAIN, TINY_UNLEARN, fails, ok, train_tiny


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """A tiny dataset (6 known label errors of 64, a test split of 32) and its model."""
    return train_tiny(tmp_path_factory.mktemp("repair"))


@pytest.fixture(scope="module")
def without_test(trained, tmp_path_factory) -> Path:
    """The same training data without a test split."""
    from mislabel.files.dataset import load_dataset_file, save_dataset

    full = load_dataset_file(trained["dataset"])
    path = tmp_path_factory.mktemp("no_test") / "no_test.npz"
    save_dataset(path, full._replace(x_test=full.x_test[:0], y_test=full.y_test[:0]))
    return path


# --------------------------------------------------------------------------- the library


def test_repair_model_flags_forgets_and_judges_on_the_test_split(trained, tmp_path):
    out, scores = tmp_path / "repaired.msgpack", tmp_path / "scores.npz"
    result = repair_model(
        trained["dataset"],
        trained["model"],
        out,
        ratio=0.1,
        unlearner="ssse",
        scores_path=scores,
        log=lambda _: None,
    )
    assert (result["n"], result["m"], result["ratio"]) == (64, 6, 0.1)
    assert not result["ratio_estimated"]
    assert (result["detector"], result["unlearner"], result["model"]) == ("loss", "ssse", str(out))
    assert sum(result["flagged_per_given_class"].values()) == 6
    with np.load(scores) as npz:
        assert np.flatnonzero(npz["flagged"]).tolist() == result["flagged_indices"]
    assert 0 <= result["roc_auc"] <= 1
    assert result["judged_on"].startswith("the dataset's test split (32 samples)")
    assert result["accuracy_after"] == result["test_accuracy_after"]
    # ssse on the last layer (kernel and bias): a damping picked on a cross-fit
    assert result["relative_damping"] in result["damping_grid"]
    loaded = load_model(out, expect_features=16, expect_classes=2)
    assert loaded.meta["unlearner"] == "ssse"


def test_a_repair_not_shown_no_worse_writes_nothing(trained, tmp_path, monkeypatch):
    from mislabel.repair import procedure

    def ruin(plan, model, state, x, y, flagged):  # a "repair" that zeroes the model
        import jax

        zeros = jax.tree_util.tree_map(np.zeros_like, state.params)
        return [procedure.Option(zeros, None, None, 1.0)]

    monkeypatch.setattr(procedure, "forget", ruin)
    out, scores, info = tmp_path / "r.msgpack", tmp_path / "s.npz", tmp_path / "i.json"
    report = tmp_path / "report"
    kwargs = dict(ratio=0.1, scores_path=scores, info_path=info, report_dir=report)
    with pytest.raises(RepairRefused, match="not shown to be no worse.*were not written"):
        repair_model(trained["dataset"], trained["model"], out, **kwargs, log=print)
    assert not any(p.exists() for p in (out, scores, info, report))
    kept = repair_model(
        trained["dataset"], trained["model"], out, **kwargs, allow_worse=True, log=print
    )
    assert out.exists() and not kept["not_worse"] and kept["allow_worse"]
    assert json.loads((report / "summary.json").read_text())["not_worse"] is False


def test_repair_refuses_to_flag_more_than_half(trained, tmp_path, monkeypatch):
    from mislabel.repair import procedure

    monkeypatch.setattr(procedure, "set_budget", lambda *a: (40, "a test's budget"))
    out = tmp_path / "r.msgpack"
    with pytest.raises(RepairRefused, match="flags 40 of 64 samples, more than half"):
        repair_model(trained["dataset"], trained["model"], out, ratio=0.1, log=print)
    assert not out.exists()


def test_without_a_test_split_every_sample_is_scored_and_judged_out_of_fold(
    trained, without_test, tmp_path
):
    """The cross-fit retrains each fold's model with the model's own recipe; every
    training sample is scored, none is held out."""
    import pandas as pd

    report, out = tmp_path / "report", tmp_path / "fixed.msgpack"
    result = repair_model(
        without_test,
        trained["model"],
        out,
        ratio=0.1,
        unlearner="finetune",
        unlearning={"finetune_epochs": 2},
        report_dir=report,
        margin=10.0,  # 64 samples: an interval of about +-3 points
        log=print,
    )
    assert result["m"] == round(0.1 * 64) and result["n"] == 64
    assert result["n_judged"] == 64 and "retrained with its recipe" in result["judged_on"]
    assert "test_accuracy_after" not in result
    table = pd.read_csv(report / "flagged.csv")
    assert len(table) == 64 and table["score"].notna().all()
    assert out.exists()


def test_repair_summary_lists_the_first_flags_and_says_where_the_rest_are():
    result = {
        "n": 100,
        "m": 25,
        "detector": "loss",
        "budget_source": "ratio 0.25 given: round(n r)",
        "unlearner": "ssse",
        "flagged_indices": list(range(25)),
        "flagged_per_given_class": {"0": 10, "1": 15},
        "model": "fixed.msgpack",
        "judged_on": "the dataset's test split (20 samples), its labels",
        "accuracy_before": 0.85,
        "accuracy_after": 0.9,
        "change_points": 5.0,
        "interval_points": [-1.5, 11.0],
        "confidence": 0.95,
    }
    text = repair_summary(result, None)
    assert "flagged 25 of 100" in text and "ratio 0.25 given" in text
    assert "19 ... (5 more; --json or --scores-out lists all)" in text
    assert "flagged per given label: 0: 10, 1: 15" in text
    assert (
        "accuracy 85.00% before, 90.00% after ssse (+5.00 points, 95% interval [-1.50, "
        "+11.00]), judged on the dataset's test split (20 samples), its labels\n" in text
    )
    assert text.endswith("wrote fixed.msgpack")
    assert "(5 more; all in flags.npz)" in repair_summary(result, "flags.npz")


# --------------------------------------------------------------------------- the command


def test_repair_end_to_end(trained, tmp_path, capsys):
    repaired, flags, info = tmp_path / "repaired.msgpack", tmp_path / "f.npz", tmp_path / "i.json"
    out = ok(
        f"repair --data {trained['dataset']} --model {trained['model']} --ratio 0.1 "
        f"--unlearner ssse --out {repaired} --scores-out {flags} --info-out {info}",
        capsys,
    )
    assert "flagged 6 of 64 training samples" in out
    assert "before" in out and "after ssse" in out and "judged on the dataset's test" in out
    load_model(repaired, expect_features=16, expect_classes=2)
    with np.load(flags) as npz:
        assert npz["flagged"].sum() == 6
    assert json.loads(info.read_text())["unlearner"] == "ssse"


def test_repair_without_a_noise_ratio_uses_an_estimate(trained, tmp_path, capsys):
    repaired = tmp_path / "repaired.msgpack"
    result = json.loads(
        ok(
            f"repair --json --data {trained['dataset']} --model {trained['model']} "
            f"--cv-folds 3 --unlearner finetune {TINY_UNLEARN} --margin 10 --out {repaired}",
            capsys,
        )
    )
    assert result["ratio_estimated"] and result["budget_source"] == "cleanlab's estimate"
    assert result["m"] == round(result["ratio"] * result["n"])


def test_repair_refuses_to_overwrite_its_model(trained, capsys):
    fails(
        f"repair --data {trained['dataset']} --model {trained['model']} --ratio 0.1 "
        f"--out {trained['model']}",
        capsys,
        "overwrite an input",
    )


def test_pack_train_repair_own_data_without_test_split(tmp_path, capsys):
    rng = np.random.default_rng(1)
    y = np.arange(40) % 2
    np.save(tmp_path / "x.npy", rng.random((40, 6)) * 0.4 + 0.5 * y[:, None])
    np.save(tmp_path / "y.npy", y)
    ds, model, fixed = tmp_path / "mine.npz", tmp_path / "model.msgpack", tmp_path / "fixed"
    ok(f"pack --x-train {tmp_path / 'x.npy'} --y-train {tmp_path / 'y.npy'} --out {ds}", capsys)
    ok(f"train --data {ds} {TINY_TRAIN} --out {model} --history {tmp_path / 'h'}", capsys)
    result = json.loads(
        ok(
            f"repair --json --data {ds} --model {model} --ratio 0.05 --unlearner finetune "
            f"{TINY_UNLEARN} --allow-worse --out {fixed}",
            capsys,
        )
    )
    assert result["m"] == 2 and len(result["flagged_indices"]) == 2
    assert "test_accuracy_after" not in result and result["roc_auc"] is None
    assert result["n_judged"] == 40 and "5-fold cross-fit" in result["judged_on"]
    assert fixed.is_file()


def test_repair_ratio_zero_keeps_the_model(trained, tmp_path, capsys):
    out = tmp_path / "same.msgpack"
    result = json.loads(
        ok(
            f"repair --json --data {trained['dataset']} --model {trained['model']} --ratio 0 "
            f"--out {out}",
            capsys,
        )
    )
    assert result["m"] == 0 and result["change_points"] == 0 and result["not_worse"]
    before, after = load_model(trained["model"]), load_model(out)
    for a, b in zip(
        np.concatenate([np.ravel(v) for v in _leaves(before.state.params)]),
        np.concatenate([np.ravel(v) for v in _leaves(after.state.params)]),
        strict=True,
    ):
        assert a == b


def _leaves(tree):
    import jax

    return jax.tree_util.tree_leaves(tree)
