"""Repairing a classifier trained by another library, through its last layer
(`mislabel.repair.head_repair` and `mislabel repair-head`): judged on data neither model
trained on, and written only when shown not to be worse."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from benchmarks.repair_safety import planted_digits
from mislabel.cli import main
from mislabel.network.mlp import predict
from mislabel.repair.head import HeadError, check_head, load_head, save_head
from mislabel.repair.head_repair import head_model, repair_head
from mislabel.repair.procedure import RepairRefused

quiet = dict(log=lambda _: None)


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's LogisticRegression on real digits (10 classes), 10% planted flips,
    and a clean test split with the true labels."""
    return planted_digits(0.1, 0)


def test_the_head_is_the_exported_model(digits):
    fit = LogisticRegression(max_iter=5000).fit(digits.x_train, digits.y_noisy)
    model, params = head_model(fit.coef_.T, fit.intercept_)
    got = np.asarray(predict(model, params, digits.x_test))
    np.testing.assert_array_equal(got, fit.predict(digits.x_test))


def test_with_a_holdout_the_repair_is_judged_on_it(digits, tmp_path):
    d = digits
    holdout = {"holdout_features": d.x_test, "holdout_labels": d.y_test}
    repair = repair_head(
        d.x_train, d.y_noisy, d.W, d.b, **holdout, unlearner="finetune", ratio=0.1, **quiet
    )
    s = repair.summary
    assert roc_auc_score(d.flipped, repair.scores_N) > 0.95
    assert s["n_flagged"] == repair.flagged_N.sum() == round(0.1 * len(d.y_noisy))
    before = np.mean(np.argmax(d.x_test @ d.W + d.b, axis=1) == d.y_test)
    after = np.mean(np.argmax(d.x_test @ repair.W + repair.b, axis=1) == d.y_test)
    assert (s["accuracy_before"], s["accuracy_after"]) == pytest.approx((before, after))
    assert s["judged_on"].startswith("the given holdout") and "crossfit_folds" not in s
    low, high = s["interval_points"]
    assert low < s["change_points"] < high and s["not_worse"] and not s["refused"]
    assert s["damping"] is None and s["step_norm_relative"] > 0


def test_without_a_holdout_every_sample_is_scored_and_judged_out_of_fold(digits):
    d = digits
    repair = repair_head(d.x_train, d.y_noisy, d.W, d.b, unlearner="finetune", ratio=0.1, **quiet)
    s = repair.summary
    assert not np.isnan(repair.scores_N).any() and repair.scores_N.size == d.y_noisy.size
    assert s["n_flagged"] == round(0.1 * d.y_noisy.size)  # of every sample, none held out
    assert s["crossfit_folds"] == 5 and s["n_judged"] == d.y_noisy.size
    assert "cross-fit" in s["judged_on"] and "given labels (which may be wrong)" in s["judged_on"]
    assert s["removal_damping"] >= s["implied_ridge"] > 0


def test_the_estimate_lands_on_an_independent_test_set_where_the_training_set_lies():
    """A planted case where any holdout cut from the training data is biased: a head that
    fits its 600 training samples perfectly (clean labels, 80 features) but scores 86% on
    new samples. The cross-fit's out-of-fold accuracy lands within noise (2 standard
    errors) of an independent test set of 20,000 samples; the training set is 14 points
    off."""
    rng = np.random.default_rng(0)
    means = rng.normal(size=(3, 80)) * 0.25

    def draw(n, seed):
        r = np.random.default_rng(seed)
        y = r.integers(0, 3, n)
        return (means[y] + r.normal(size=(n, 80))).astype(np.float32), y

    x, y = draw(600, 1)
    x_test, y_test = draw(20_000, 2)
    fit = LogisticRegression(C=1.0, max_iter=10_000).fit(x, y)
    test_accuracy, naive = fit.score(x_test, y_test), fit.score(x, y)
    repair = repair_head(x, y, fit.coef_.T, fit.intercept_, ratio=0.0, **quiet)
    estimate = repair.summary["accuracy_before"]
    noise = np.sqrt(test_accuracy * (1 - test_accuracy) / len(y))
    assert naive - test_accuracy > 10 * noise  # the biased judge
    assert abs(estimate - test_accuracy) < 2 * noise


def test_closed_form_steps_pick_a_damping_and_move_the_bias_too(digits):
    d = digits
    repair = repair_head(d.x_train, d.y_noisy, d.W, d.b, unlearner="ssse", ratio=0.1, **quiet)
    s = repair.summary
    assert s["damping_grid"] == [0.01, 0.03, 0.1, 0.3, 1.0]
    assert s["relative_damping"] in s["damping_grid"] and s["damping"] > 0
    assert "out-of-fold accuracy" in s["damping_chosen_on"]
    assert 0 < s["step_norm_relative"] < 1
    assert not np.allclose(repair.b, d.b)


def test_a_repair_not_shown_no_worse_is_refused_and_nothing_is_written(tmp_path):
    """Retraining a fresh head by SGD loses to scikit-learn's head on these digits: the
    cross-fit's interval reaches below -1 point, so nothing is written."""
    d = planted_digits(0.2, 0)
    with pytest.raises(RepairRefused, match="not shown to be no worse") as err:
        repair_head(d.x_train, d.y_noisy, d.W, d.b, unlearner="retrain", ratio=0.2, **quiet)
    s = err.value.repair.summary
    assert s["refused"] and not s["not_worse"] and s["interval_points"][0] < -1
    kept = repair_head(
        d.x_train, d.y_noisy, d.W, d.b, unlearner="retrain", ratio=0.2, allow_worse=True, **quiet
    )
    assert not kept.summary["refused"] and not kept.summary["not_worse"]
    # The command: exit status 2, nothing written; --allow-worse writes.
    np.save(tmp_path / "x.npy", d.x_train)
    np.save(tmp_path / "y.npy", d.y_noisy)
    save_head(tmp_path / "head.npz", d.W, d.b)
    args = [
        "repair-head",
        "--ratio",
        "0.2",
        "-q",
        "--features",
        str(tmp_path / "x.npy"),
        "--labels",
        str(tmp_path / "y.npy"),
        "--head",
        str(tmp_path / "head.npz"),
        "--unlearner",
        "retrain",
    ]
    bad = [*args, "--out", str(tmp_path / "bad.npz"), "--report-dir", str(tmp_path / "bad")]
    assert main(bad) == 2
    assert not (tmp_path / "bad.npz").exists() and not (tmp_path / "bad").exists()
    kept_args = [
        *args,
        "--out",
        str(tmp_path / "kept.npz"),
        "--report-dir",
        str(tmp_path / "kept"),
        "--allow-worse",
    ]
    assert main(kept_args) == 0
    W_new, b_new = load_head(tmp_path / "kept.npz")
    assert W_new.shape == d.W.shape and W_new.dtype == np.float32 and b_new.shape == d.b.shape
    summary = json.loads((tmp_path / "kept" / "summary.json").read_text())
    assert summary["not_worse"] is False and summary["allow_worse"] is True
    table = pd.read_csv(tmp_path / "kept" / "flagged.csv")
    assert len(table) == d.y_noisy.size and table["score"].is_monotonic_decreasing


def test_flagging_more_than_half_is_refused(digits, monkeypatch):
    from mislabel.detectors.base import Detection
    from mislabel.repair import procedure

    def overeager(name, model, params, x_NxD, y_N, **kwargs):
        return Detection(np.arange(len(y_N), dtype=float), int(0.6 * len(y_N)), {})

    monkeypatch.setattr(procedure, "score_detector", overeager)
    d = digits
    with pytest.raises(RepairRefused, match="more than half"):
        repair_head(d.x_train, d.y_noisy, d.W, d.b, detector="cleanlab", **quiet)


def test_unknown_names_are_refused_before_any_work(digits):
    d = digits
    with pytest.raises(ValueError, match="unlearner 'nope' cannot repair"):
        repair_head(d.x_train, d.y_noisy, d.W, d.b, unlearner="nope", **quiet)
    with pytest.raises(ValueError, match="unlearner 'ssse_full' cannot repair.*W and b"):
        repair_head(d.x_train, d.y_noisy, d.W, d.b, unlearner="ssse_full", **quiet)
    with pytest.raises(ValueError, match="cannot score an exported head.*aum needs"):
        repair_head(d.x_train, d.y_noisy, d.W, d.b, detector="aum", **quiet)
    with pytest.raises(ValueError, match=r"ratio must be in \[0, 0.5\]"):
        repair_head(d.x_train, d.y_noisy, d.W, d.b, ratio=0.6, **quiet)


def test_bad_heads_are_named(tmp_path):
    with pytest.raises(HeadError, match="looks transposed"):
        check_head(np.zeros((3, 5)), np.zeros(3), n_features=5)
    with pytest.raises(HeadError, match=r"b must have shape \(3,\)"):
        check_head(np.zeros((5, 3)), np.zeros(2), n_features=5)
    np.savez(tmp_path / "h.npz", weight=np.zeros((3, 5)))
    with pytest.raises(HeadError, match="not W and b"):
        load_head(tmp_path / "h.npz")
    np.save(tmp_path / "h.npy", np.zeros((3, 5)))
    with pytest.raises(HeadError, match="single .npy array"):
        load_head(tmp_path / "h.npy")
