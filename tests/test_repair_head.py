"""Repairing a classifier trained by another library, through its last layer."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from benchmarks.repair_head_digits import planted_digits
from mislabel.cli import main
from mislabel.head import HeadError, check_head, head_model, load_head, save_head
from mislabel.model import predict
from mislabel.repair_head import RepairRefused, holdout_split, judge, repair_head
from mislabel.report.flagged import write_repair_report


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's LogisticRegression on real digits (10 classes) with 10% planted flips
    (the measured example of benchmarks/repair_head_digits.py); its head is W = coef_.T,
    b = intercept_."""
    x, y_noisy, flipped, x_test, y_test, fit = planted_digits()
    return x, y_noisy, flipped, x_test, y_test, fit.coef_.T, fit.intercept_, fit


def test_the_head_is_the_exported_model(digits):
    x, _, _, x_test, _, W, b, fit = digits
    model, params = head_model(W, b)
    np.testing.assert_array_equal(np.asarray(predict(model, params, x_test)), fit.predict(x_test))


def test_a_scikit_learn_model_is_repaired_and_reported(digits, tmp_path):
    x, y, flipped, x_test, y_test, W, b, fit = digits
    holdout = {"holdout_features": x_test, "holdout_labels": y_test}
    repair = repair_head(x, y, W, b, **holdout, unlearner="finetune", ratio=0.1, log=print)
    s = repair.summary
    assert roc_auc_score(flipped, repair.scores_N) > 0.99
    assert s["n_flagged"] == repair.flagged_N.sum() == round(0.1 * len(y))
    assert s["holdout_accuracy_before"] == pytest.approx((fit.predict(x_test) == y_test).mean())
    assert s["holdout_accuracy_after"] >= s["holdout_accuracy_before"]
    assert not s["refused"] and s["budget_source"].startswith("ratio 0.1")
    paths = write_repair_report(
        tmp_path,
        scores_N=repair.scores_N,
        given_N=y,
        suggested_N=repair.predicted_N,
        flagged_N=repair.flagged_N,
        summary=s,
        features_NxD=x,
        image_shape=(8, 8),
    )
    assert [p.name for p in paths] == ["flagged.csv", "summary.json", "flagged.png"]
    table = pd.read_csv(tmp_path / "flagged.csv")
    assert list(table.columns) == ["index", "score", "given_label", "suggested_label", "flagged"]
    assert len(table) == len(y) and table["score"].is_monotonic_decreasing
    assert table["flagged"].sum() == s["n_flagged"] and table["flagged"].head(s["n_flagged"]).all()
    np.testing.assert_array_equal(table["given_label"], y[table["index"]])
    assert json.loads((tmp_path / "summary.json").read_text())["n_flagged"] == s["n_flagged"]


def test_without_a_ratio_the_budget_is_estimated_and_a_holdout_split_off(digits):
    x, y, flipped, _, _, W, b, _ = digits
    repair = repair_head(x, y, W, b, unlearner="finetune", log=lambda _: None)
    s = repair.summary
    assert s["budget_source"] == "cleanlab's estimate" and 0 < s["n_flagged"] < len(y) / 2
    assert s["n_scored"] == len(y) - round(0.2 * len(y)) and "stratified" in s["holdout"]
    assert np.isnan(repair.scores_N).sum() == len(y) - s["n_scored"]
    assert not repair.flagged_N[np.isnan(repair.scores_N)].any()


def test_a_repair_that_makes_the_model_worse_is_refused(digits, tmp_path):
    """The last layer's SSSE step (kernel only, pseudo-inverse) hurts this head."""
    x, y, _, x_test, y_test, W, b, _ = digits
    kwargs = dict(holdout_features=x_test, holdout_labels=y_test, unlearner="ssse", ratio=0.1)
    with pytest.raises(RepairRefused, match="worse on the holdout.*not written") as err:
        repair_head(x, y, W, b, **kwargs, log=lambda _: None)
    s = err.value.repair.summary
    assert s["refused"] and s["holdout_accuracy_after"] < s["holdout_accuracy_before"]
    kept = repair_head(x, y, W, b, **kwargs, allow_worse=True, log=lambda _: None)
    assert not kept.summary["refused"] and kept.summary["worse_beyond_noise"]
    # The command: exit status 2, the report written, no head.
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "xt.npy", x_test)
    np.save(tmp_path / "yt.npy", y_test)
    save_head(tmp_path / "head.npz", W, b)
    files = {"features": "x.npy", "labels": "y.npy", "head": "head.npz"}
    files |= {"holdout-features": "xt.npy", "holdout-labels": "yt.npy"}
    args = ["repair-head", "--ratio", "0.1", "-q"]
    for flag, name in files.items():
        args += [f"--{flag}", str(tmp_path / name)]
    bad = [*args, "--unlearner", "ssse", "--out", str(tmp_path / "bad.npz")]
    assert main([*bad, "--report-dir", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad.npz").exists()
    assert json.loads((tmp_path / "bad" / "summary.json").read_text())["refused"]
    good = [*args, "--unlearner", "finetune", "--out", str(tmp_path / "good.npz")]
    assert main([*good, "--report-dir", str(tmp_path / "good")]) == 0
    W_new, b_new = load_head(tmp_path / "good.npz")
    assert W_new.shape == W.shape and W_new.dtype == np.float32 and b_new.shape == b.shape


def test_flagging_more_than_half_is_refused(digits, monkeypatch):
    from mislabel import repair_head as module
    from mislabel.detectors.base import Detection

    x, y, _, _, _, W, b, _ = digits

    def overeager(name, model, params, x_NxD, y_N, **kwargs):
        return Detection(np.arange(len(y_N), dtype=float), int(0.6 * len(y_N)), {})

    monkeypatch.setattr(module, "score_detector", overeager)
    with pytest.raises(RepairRefused, match="more than half"):
        repair_head(x, y, W, b, detector="cleanlab", log=lambda _: None)


def test_judge_is_the_one_sided_sign_test():
    y = np.zeros(40, int)
    before = np.zeros(40, int)
    after = before.copy()
    after[:9] = 1  # 9 lost
    before[20:22] = 1  # 2 samples wrong before ...
    after[20:22] = 0  # ... right after: 2 gained
    verdict = judge(y, before, after)
    assert (verdict["holdout_lost"], verdict["holdout_gained"]) == (9, 2)
    tail = sum(math.comb(11, k) for k in range(9, 12)) / 2**11
    assert verdict["worse_p_value"] == pytest.approx(tail) and verdict["worse_beyond_noise"]
    assert judge(y, before, before)["worse_p_value"] == 1.0


def test_holdout_split_is_stratified_and_disjoint():
    y = np.repeat(np.arange(3), [50, 30, 20])
    train, held = holdout_split(y, 0.2, seed=0)
    assert np.intersect1d(train, held).size == 0 and train.size + held.size == y.size
    assert np.bincount(y[held]).tolist() == [10, 6, 4]
    with pytest.raises(ValueError, match="single training sample"):
        holdout_split(np.r_[y, 3], 0.2, seed=0)


def test_unknown_names_are_refused_before_any_work(digits):
    x, y, _, _, _, W, b, _ = digits
    with pytest.raises(ValueError, match="unknown unlearning method 'nope'"):
        repair_head(x, y, W, b, unlearner="nope", log=print)
    with pytest.raises(ValueError, match="cannot score a head.*aum needs"):
        repair_head(x, y, W, b, detector="aum", log=print)


def test_bad_heads_are_named(tmp_path):
    with pytest.raises(HeadError, match="looks transposed"):
        check_head(np.zeros((3, 5)), np.zeros(3), n_features=5)
    with pytest.raises(HeadError, match=r"b must have shape \(3,\)"):
        check_head(np.zeros((5, 3)), np.zeros(2), n_features=5)
    np.savez(tmp_path / "h.npz", weight=np.zeros((3, 5)))
    with pytest.raises(HeadError, match="needs W"):
        load_head(tmp_path / "h.npz")
