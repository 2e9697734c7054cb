"""`mislabel repair` and `mislabel.repair.repair_model`: flag the likely mislabeled
samples of a trained model and unlearn them, in one step."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mislabel.cli.repair_command import repair_summary
from mislabel.files.checkpoint import load_model
from mislabel.repair import repair_model
from tests.test_cli import TINY_TRAIN, TINY_UNLEARN, fails, ok, train_tiny


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """A tiny dataset (6 known label errors of 64) and a model trained on it."""
    return train_tiny(tmp_path_factory.mktemp("repair"))


# --------------------------------------------------------------------------- the library


def test_repair_model_flags_forgets_and_evaluates(trained, tmp_path):
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
    assert (result["detector"], result["method"], result["model"]) == ("loss", "ssse", str(out))
    assert sum(result["flagged_per_given_class"].values()) == 6
    with np.load(scores) as npz:
        assert np.flatnonzero(npz["flagged"]).tolist() == result["flagged_indices"]
    assert 0 <= result["roc_auc"] <= 1 and result["seconds_unlearn"] >= 0
    assert 0 <= result["test_accuracy_after"] <= 1
    assert load_model(out, expect_features=16, expect_classes=2).meta["method"] == "ssse"


def test_repair_writes_its_report_and_refuses_a_worse_model(trained, tmp_path, monkeypatch):
    import pandas as pd

    from mislabel import repair as module
    from mislabel.repair_head import RepairRefused

    out, report = tmp_path / "repaired.msgpack", tmp_path / "report"
    result = repair_model(
        trained["dataset"], trained["model"], out, ratio=0.1, report_dir=report, log=print
    )
    table = pd.read_csv(report / "flagged.csv")
    assert len(table) == result["n"] and table["flagged"].sum() == result["m"]
    assert sorted(table["index"][table["flagged"]]) == result["flagged_indices"]
    summary = json.loads((report / "summary.json").read_text())
    assert summary["method"] == "neggrad_plus" and summary["m"] == result["m"]
    assert summary["holdout_accuracy_after"] == pytest.approx(result["test_accuracy_after"])
    worse = {"holdout_accuracy_before": 0.9, "holdout_accuracy_after": 0.5}
    worse |= {"holdout_lost": 10, "holdout_gained": 0, "worse_p_value": 1e-3}
    monkeypatch.setattr(module, "judge", lambda *a: worse | {"worse_beyond_noise": True})
    refused = tmp_path / "refused.msgpack"
    with pytest.raises(RepairRefused, match="worse on the test split.*was not written"):
        repair_model(trained["dataset"], trained["model"], refused, ratio=0.1, log=print)
    assert not refused.exists()
    kept = repair_model(
        trained["dataset"], trained["model"], refused, ratio=0.1, allow_worse=True, log=print
    )
    assert refused.exists() and kept["worse_beyond_noise"]


def test_repair_refuses_to_flag_more_than_half(trained, tmp_path, monkeypatch):
    from mislabel.repair_head import RepairRefused
    from mislabel.stages import score as score_stage

    flag_top = score_stage.flag_top
    monkeypatch.setattr(score_stage, "flag_top", lambda s, m: flag_top(s, 40))
    out = tmp_path / "r.msgpack"
    with pytest.raises(RepairRefused, match="flags 40 of 64 samples, more than half"):
        repair_model(trained["dataset"], trained["model"], out, ratio=0.1, log=print)
    assert not out.exists()


def test_repair_model_needs_a_ratio_or_an_estimating_detector(tmp_path):
    with pytest.raises(ValueError, match="ratio=None needs a detector that estimates"):
        repair_model("ds.npz", "model.msgpack", tmp_path / "out", ratio=None, detector="loss")


def test_repair_summary_lists_the_first_flags_and_says_where_the_rest_are():
    result = {
        "n": 100,
        "m": 25,
        "ratio": 0.25,
        "detector": "loss",
        "method": "ssse",
        "flagged_indices": list(range(25)),
        "flagged_per_given_class": {"0": 10, "1": 15},
        "model": "fixed.msgpack",
        "holdout": "stratified split of the training data (20 samples)",
        "holdout_accuracy_before": 0.85,
        "holdout_accuracy_after": 0.9,
    }
    text = repair_summary(result, None)
    assert "flagged 25 of 100" in text and "r=0.25" in text
    assert "19 ... (5 more; --json or --scores-out lists all)" in text
    assert "flagged per given label: 0: 10, 1: 15" in text
    assert (
        "accuracy on the stratified split of the training data (20 samples): 0.8500 before, "
        "0.9000 after ssse\n" in text
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
    assert "accuracy on the test split (" in out and "before" in out and "after ssse" in out
    load_model(repaired, expect_features=16, expect_classes=2)
    with np.load(flags) as npz:
        assert npz["flagged"].sum() == 6
    assert json.loads(info.read_text())["target"] == "detected"


def test_repair_without_a_noise_ratio_uses_the_estimate(trained, tmp_path, capsys):
    repaired = tmp_path / "repaired.msgpack"
    result = json.loads(
        ok(
            f"repair --json --data {trained['dataset']} --model {trained['model']} "
            f"--detector cleanlab --cv-folds 3 --unlearner finetune --out {repaired}",
            capsys,
        )
    )
    assert result["ratio_estimated"] and 0 <= result["ratio"] <= 1
    assert result["m"] == round(result["ratio"] * result["n"])
    fails(
        f"repair --data {trained['dataset']} --model {trained['model']} --detector loss "
        f"--out {tmp_path / 'other.msgpack'}",
        capsys,
        "--ratio",
    )


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
            f"{TINY_UNLEARN} --out {fixed}",
            capsys,
        )
    )
    assert result["m"] == 2 and len(result["flagged_indices"]) == 2
    assert "test_accuracy_after" not in result and result["roc_auc"] is None
    assert result["holdout"] == "stratified split of the training data (8 samples)"
    assert 0 <= result["holdout_accuracy_after"] <= 1
    assert fixed.is_file()


def test_without_a_test_split_a_stratified_holdout_judges_and_is_never_flagged(trained, tmp_path):
    import pandas as pd

    from mislabel.data.subset import to_float
    from mislabel.files.dataset import load_dataset_file, save_dataset
    from mislabel.model import predict
    from mislabel.repair_head import holdout_split

    full = load_dataset_file(trained["dataset"])
    no_test = tmp_path / "no_test.npz"
    save_dataset(no_test, full._replace(x_test=full.x_test[:0], y_test=full.y_test[:0]))
    report, out = tmp_path / "report", tmp_path / "fixed.msgpack"
    result = repair_model(
        no_test, trained["model"], out, ratio=0.1, seed=3, report_dir=report, log=print
    )
    scored, held = holdout_split(full.y_train, 0.2, 3)  # the split, drawn independently
    assert result["holdout"] == f"stratified split of the training data ({held.size} samples)"
    assert result["m"] == round(0.1 * scored.size) and result["n"] == 64
    assert not set(result["flagged_indices"]) & set(held.tolist())
    table = pd.read_csv(report / "flagged.csv").set_index("index")
    assert table.loc[held, "score"].isna().all() and not table.loc[held, "flagged"].any()
    assert table.loc[scored, "score"].notna().all()
    model = load_model(trained["model"])
    before = np.asarray(predict(model.model, model.state.params, to_float(full.x_train[held])))
    assert result["holdout_accuracy_before"] == pytest.approx(np.mean(before == full.y_train[held]))
    repaired = load_model(out)
    after = np.asarray(predict(repaired.model, repaired.state.params, to_float(full.x_train[held])))
    assert result["holdout_accuracy_after"] == pytest.approx(np.mean(after == full.y_train[held]))


def test_repair_ratio_zero(trained, tmp_path, capsys):
    fails(
        f"repair --data {trained['dataset']} --model {trained['model']} --ratio 0 "
        f"--out {tmp_path / 'r'}",
        capsys,
        "(0, 1)",
    )
