"""Forgetting real label errors (`mislabel.stages.real_errors_forget`): the random control,
the paired summary, the refusals, and the whole forgetting on digits with planted flips."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from mislabel.network.mlp import make_model
from mislabel.network.train import train
from mislabel.settings import RealErrorsSettings, TrainConfig, from_mapping
from mislabel.stages.real_errors_forget import (
    PRETRAINED,
    forget_and_evaluate,
    forget_markdown,
    forget_sets,
    forget_summary,
    random_forget,
)


@pytest.fixture(scope="module")
def flipped_digits():
    """Digits: 1200 training samples, 20% of their labels flipped to another class, and 597
    held out with their true labels; a small MLP trained on the flipped labels and its last
    epoch's per-sample losses."""
    digits = load_digits()
    x = (digits.data / 16).astype(np.float32)
    y_true = digits.target.astype(np.int32)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y_true))
    train_idx, held_idx = order[:1200], order[1200:]
    y = y_true[train_idx].copy()
    flipped = rng.random(len(y)) < 0.2
    y[flipped] = (y[flipped] + rng.integers(1, 10, flipped.sum())) % 10
    config = TrainConfig(lr=0.05, epochs=20)
    model = make_model((32,), 10)
    state, history = train(model, x[train_idx], y, 0, config)
    loss_N = np.asarray(history.sample_loss_ExN[-1])
    return model, state, x[train_idx], y, flipped, loss_N, x[held_idx], y_true[held_idx], config


def test_forgetting_the_highest_losses_beats_forgetting_as_many_at_random(flipped_digits):
    model, state, x, y, flipped, loss_N, x_held, y_held, config = flipped_digits
    k = int(flipped.sum())
    rows = forget_and_evaluate(
        model,
        state,
        x,
        y,
        loss_N,
        x_held,
        y_held,
        ks=[k],
        unlearners=["retrain"],
        seed=0,
        train_config=config,
        detector="loss",
        log=print,
    )
    accuracy = {(r["unlearner"], r["selection"]): r["accuracy"] for r in rows}
    assert [(r["unlearner"], r["selection"], r["k"]) for r in rows] == [
        (PRETRAINED, "none", 0),
        ("retrain", "top", k),
        ("retrain", "random", k),
    ]
    before = accuracy[PRETRAINED, "none"]
    # measured: 92.5% before, 96.6% without the top k, 91.6% without k at random
    assert accuracy["retrain", "top"] - accuracy["retrain", "random"] > 0.02
    assert accuracy["retrain", "top"] - before > 0.02
    assert all(r["n_train"] == 1200 and r["n_eval"] == 597 for r in rows)


def test_the_random_control_forgets_exactly_k_distinct_samples_nested_and_seeded():
    for k in (1, 50, 999):
        assert random_forget(1000, k, seed=3).sum() == k
    small, large = random_forget(1000, 50, seed=3), random_forget(1000, 200, seed=3)
    assert np.all(large[small])  # the first k of one permutation: nested like the top k
    assert np.array_equal(small, random_forget(1000, 50, seed=3))
    assert not np.array_equal(small, random_forget(1000, 50, seed=4))


def test_forget_sets_pair_the_top_k_with_k_at_random():
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.0, 0.3])
    sets = forget_sets(scores, [2, 3], seed=0)
    assert [(s, k, int(m.sum())) for s, k, m in sets] == [
        ("top", 2, 2),
        ("random", 2, 2),
        ("top", 3, 3),
        ("random", 3, 3),
    ]
    assert np.flatnonzero(sets[0][2]).tolist() == [1, 3]  # tie: both 0.9
    assert np.flatnonzero(sets[2][2]).tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("ks", "unlearners", "message"),
    [
        ([0], ["retrain"], r"forget_k=\[0\]: every k must lie in 1\.\.9"),
        ([10], ["retrain"], r"forget_k=\[10\]: every k must lie in 1\.\.9"),
        ([2], ["forget_all"], "unknown unlearner 'forget_all'"),
        ([2], [], "unlearners is empty"),
    ],
)
def test_bad_forgetting_settings_are_refused_before_any_training(ks, unlearners, message):
    x, y = np.zeros((10, 4), np.float32), np.zeros(10, np.int32)
    with pytest.raises(ValueError, match=message) as err:
        forget_and_evaluate(
            None, None, x, y, np.zeros(10), x, y, ks=ks, unlearners=unlearners, seed=0,
            train_config=TrainConfig(), detector="loss",
        )  # fmt: skip
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"top_k": [50, 0]}, r"top_k must be distinct integers >= 1, got \[50, 0\]"),
        ({"forget_k": [5, 5]}, r"forget_k must be distinct integers >= 1, got \[5, 5\]"),
        ({"forget_detector": ""}, "forget_detector must name a detector"),
    ],
)
def test_bad_real_errors_settings_are_refused_in_one_line(values, message):
    with pytest.raises(ValueError, match=message) as err:
        from_mapping(RealErrorsSettings, values)
    assert "\n" not in str(err.value)


def _row(seed, unlearner, selection, k, accuracy):
    return {
        "seed": seed,
        "detector": "aum",
        "unlearner": unlearner,
        "selection": selection,
        "k": k,
        "n_train": 100,
        "n_eval": 600,
        "accuracy": accuracy,
    }


def test_the_summary_pairs_the_seeds_and_gives_mean_and_sd():
    rows = [
        _row(0, PRETRAINED, "none", 0, 0.90),
        _row(0, "retrain", "top", 5, 0.93),
        _row(0, "retrain", "random", 5, 0.89),
        _row(1, PRETRAINED, "none", 0, 0.80),
        _row(1, "retrain", "top", 5, 0.81),
        _row(1, "retrain", "random", 5, 0.80),
    ]
    [row] = forget_summary(rows)
    assert (row["unlearner"], row["k"], row["seeds"], row["detector"]) == ("retrain", 5, 2, "aum")
    assert row["before_mean"] == pytest.approx(0.85)
    assert row["top_minus_before_mean"] == pytest.approx(0.02)  # (0.03 + 0.01) / 2
    assert row["top_minus_before_sd"] == pytest.approx(np.std([0.03, 0.01], ddof=1))
    assert row["top_minus_random_mean"] == pytest.approx(0.025)  # (0.04 + 0.01) / 2
    text = forget_markdown([row], [0, 1])
    assert "| retrain | 5 | 85.00 ± 7.07 | 87.00 ± 8.49 | 84.50 ± 6.36 | +2.00 ± 1.41 |" in text
    assert "seeds 0, 1" in text and "the k that aum ranks highest" in text
    assert (
        forget_markdown([row | {"top_minus_random_mean": -0.00001}], [0, 1]).count("+0.00 ±") == 1
    )
    with pytest.raises(ValueError, match="retrain, k=5"):
        forget_summary(rows[:-1])  # seed 1 lacks its random control
