"""Detectors on planted flips, the top-m budget, and metrics against hand-built cases."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from mislabel.checks import NumericalError, check_finite
from mislabel.detect import budget, flag_top
from mislabel.detectors.influence import anomaly_scores
from mislabel.metrics import detection_metrics
from mislabel.network.mlp import make_model
from mislabel.network.precision import float64, to_float64
from mislabel.network.train import train
from mislabel.noise import inject_noise
from mislabel.registry import PAPER_DETECTORS
from mislabel.settings import CurvatureSettings, TrainConfig
from tests.conftest import blobs

INFLUENCE = ("if_self", "if_train", "if_train_minus_z")


@pytest.fixture(scope="module")
def planted():
    x, y_clean = blobs(400, 10, seed=5, sep=3.0)
    y, flipped = inject_noise(y_clean, 2, 0.1, "exact", seed=0)
    x = x.astype(np.float32)
    model = make_model([16], 2)
    state, _ = train(model, x, y, 0, TrainConfig(batch_size=16, epochs=15))
    with float64():
        scores, info = anomaly_scores(
            model, to_float64(state.params), to_float64(jnp.asarray(x)), jnp.asarray(y)
        )
    return scores, info, flipped


def test_loss_detector_finds_planted_flips(planted):
    scores, _, flipped = planted
    metrics = detection_metrics(flipped, scores["loss"], flag_top(scores["loss"], flipped.sum()))
    assert metrics["roc_auc"] > 0.95
    assert metrics["precision"] > 0.8


def test_self_influence_also_finds_them(planted):
    scores, info, flipped = planted
    assert detection_metrics(flipped, scores["if_self"], flipped)["roc_auc"] > 0.9
    assert info["method"] == "pinv" and info["rank"] <= info["n_params"] // 2
    assert set(scores) == set(PAPER_DETECTORS)
    assert all(s.shape == (400,) for s in scores.values())


def test_budget_rounds_half_up():
    assert budget(2000, 0.05) == 100
    assert budget(10, 0.25) == 3  # 2.5 rounds up, not to even
    assert budget(128, 0.1) == 13
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        budget(10, 1.0)


def test_flag_top_picks_the_highest_with_stable_ties():
    flags = flag_top(np.array([0.1, 0.9, 0.5, 0.9, 0.2]), 2)
    np.testing.assert_array_equal(flags, [False, True, False, True, False])
    flags = flag_top(np.array([1.0, 1.0, 1.0]), 1)
    np.testing.assert_array_equal(flags, [True, False, False])
    with pytest.raises(ValueError):
        flag_top(np.zeros(3), 4)


def test_metrics_on_a_hand_built_case():
    flipped = np.array([1, 1, 0, 0, 0, 0, 0, 0], bool)
    scores = np.array([0.9, 0.2, 0.8, 0.1, 0.0, 0.3, 0.4, 0.05])
    flagged = np.array([1, 0, 1, 0, 0, 0, 0, 0], bool)
    m = detection_metrics(flipped, scores, flagged)
    # tp=1, fp=1, fn=1, tn=5. AUC: of 12 (pos, neg) pairs, the 0.9 positive beats all 6,
    # the 0.2 positive beats 0.1, 0.0, 0.05 -> 9/12.
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(0.5)
    assert m["roc_auc"] == pytest.approx(9 / 12)
    assert m["n"] == 8 and m["m"] == 2 and m["n_mislabeled"] == 2


def test_auc_is_nan_when_nothing_is_mislabeled():
    m = detection_metrics(np.zeros(4, bool), np.arange(4.0), np.zeros(4, bool))
    assert np.isnan(m["roc_auc"]) and m["precision"] == 0.0


def test_non_finite_scores_are_reported_with_positions():
    with pytest.raises(NumericalError, match=r"loss scores contain 1 NaN/Inf.*\[2\]"):
        check_finite(np.array([0.0, 1.0, np.inf]), "loss scores")


def test_unknown_detector_is_refused():
    model = make_model([4], 2)
    with pytest.raises(ValueError, match="allowed: loss, if_self"):
        anomaly_scores(model, {}, jnp.zeros((2, 3)), jnp.zeros(2, int), ("margin",))


def test_full_network_scores_equal_the_dense_damped_inverse():
    """rank = P: the low-rank scores equal g^T (H + d I)^-1 g with the dense H."""
    import jax

    from mislabel.curvature.full import flatten, make_weighted_loss
    from mislabel.curvature.inverse import influence_scores
    from mislabel.curvature.last_layer import per_sample_grads

    x, y_clean = blobs(60, 4, seed=3, sep=2.0)
    y, _ = inject_noise(y_clean, 2, 0.1, "exact", seed=0)
    model = make_model([3], 2)
    state, _ = train(model, x.astype(np.float32), y, 0, TrainConfig(batch_size=10, epochs=5))
    damping = 0.2  # above |most negative eigenvalue| (0.08), else the scores would be refused
    with float64():
        params = to_float64(state.params)
        x64 = jnp.asarray(x, jnp.float64)
        theta, _ = flatten(params)
        n, p = x.shape[0], theta.size
        hess = jax.hessian(
            make_weighted_loss(model, params, x64, jnp.asarray(y), jnp.full(n, 1 / n))
        )(theta)
        dense_inv = np.linalg.inv(np.asarray(hess) + damping * np.eye(p))
        grads = np.asarray(per_sample_grads(model, params, x64, jnp.asarray(y), "full"))
        expected = influence_scores(jnp.asarray(grads), lambda b: jnp.asarray(dense_inv) @ b)
    scores, info = anomaly_scores(
        model,
        state.params,
        x,
        y,
        INFLUENCE,
        scope="full",
        curvature=CurvatureSettings(full_damping=damping, lanczos_rank=p),
    )
    assert info["rank"] == p and info["eig_matvecs"] == p
    assert info["min_eigenvalue"] == pytest.approx(np.linalg.eigvalsh(np.asarray(hess)).min())
    for name in INFLUENCE:
        np.testing.assert_allclose(scores[name], np.asarray(expected[name]), rtol=1e-6, atol=1e-8)


def test_full_network_scores_find_planted_flips(planted):
    _, _, flipped = planted
    x, y_clean = blobs(400, 10, seed=5, sep=3.0)
    y, _ = inject_noise(y_clean, 2, 0.1, "exact", seed=0)
    model = make_model([16], 2)
    state, _ = train(model, x.astype(np.float32), y, 0, TrainConfig(batch_size=16, epochs=15))
    scores, info = anomaly_scores(
        model,
        state.params,
        x,
        y,
        ("if_self",),
        scope="full",
        curvature=CurvatureSettings(full_damping=0.1, lanczos_rank=20),
    )
    assert info["rank"] == 20 and info["eig_max_relative_residual"] < 1e-6
    assert detection_metrics(flipped, scores["if_self"], flipped)["roc_auc"] > 0.9


def test_full_network_scores_refuse_a_damping_below_a_negative_eigenvalue():
    """Same model as the dense test: its Hessian's most negative eigenvalue is -0.08."""
    x, y_clean = blobs(60, 4, seed=3, sep=2.0)
    y, _ = inject_noise(y_clean, 2, 0.1, "exact", seed=0)
    model = make_model([3], 2)
    state, _ = train(model, x.astype(np.float32), y, 0, TrainConfig(batch_size=10, epochs=5))
    with pytest.raises(ValueError, match="raise full_damping above 0.08"):
        curvature = CurvatureSettings(full_damping=0.05)
        anomaly_scores(model, state.params, x, y, INFLUENCE, scope="full", curvature=curvature)


def test_full_network_scores_need_damping():
    model = make_model([4], 2)
    curvature = CurvatureSettings(full_damping=0.0)
    with pytest.raises(ValueError, match="damping > 0"):
        anomaly_scores(
            model,
            {},
            np.zeros((2, 3)),
            np.zeros((2,), int),
            ("if_self",),
            scope="full",
            curvature=curvature,
        )


@pytest.mark.parametrize("detector", ["loss", "if_self_full", "aum", "cleanlab"])
def test_score_detector_dispatches_every_kind(detector):
    from mislabel.detect import score_detector
    from mislabel.settings import CurvatureSettings

    x, y_clean = blobs(200, 6, seed=1, sep=3.0)
    y, flipped = inject_noise(y_clean, 2, 0.1, "exact", seed=0)
    config = TrainConfig(batch_size=16, epochs=8)
    model = make_model([8], 2)
    state, hist = train(model, x.astype(np.float32), y, 0, config)
    result = score_detector(
        detector,
        model,
        state.params,
        x.astype(np.float32),
        y,
        seed=0,
        train_config=config,
        margin_ExN=np.asarray(hist.margin_ExN),
        curvature=CurvatureSettings(lanczos_rank=10),
    )
    assert result.scores_N.shape == (200,) and np.all(np.isfinite(result.scores_N))
    assert detection_metrics(flipped, result.scores_N, flipped)["roc_auc"] > 0.85
    if detector in ("aum", "cleanlab"):
        assert 0 <= result.m_estimated <= 200
    else:
        assert result.m_estimated is None
    if detector == "if_self_full":
        assert result.info["curvature"] == "full" and result.info["hessian_rank"] == 10
