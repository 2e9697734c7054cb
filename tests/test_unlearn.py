"""Every unlearner: contracts, what changes, and that forgetting noise helps."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from mislabel.model import make_model
from mislabel.noise import inject_noise
from mislabel.settings import UnlearningSettings
from mislabel.train import TrainConfig, train
from mislabel.unlearn import METHODS, unlearn
from tests.conftest import blobs

CONFIG = TrainConfig(batch_size=16, epochs=10)


@pytest.fixture(scope="module")
def noisy():
    x, y_clean = blobs(320, 10, seed=2, sep=2.0)
    y, flipped = inject_noise(y_clean, 2, 0.3, "exact", seed=1)
    model = make_model([16], 2)
    state, _ = train(model, x.astype(np.float32), y, 0, CONFIG)
    return model, state, x.astype(np.float32), y, y_clean, flipped


@pytest.mark.parametrize("method", METHODS)
def test_each_method_returns_finite_params_and_timing(noisy, method):
    model, state, x, y, _, flipped = noisy
    settings = UnlearningSettings(finetune_epochs=3, neggrad_epochs=2, relabel_epochs=3)
    res = unlearn(
        method, model, state, x, y, flipped, seed=0, train_config=CONFIG, unlearning=settings
    )
    # One run: its wall time splits into compilation and the method itself.
    assert res.seconds > 0 and res.info["compile_seconds"] >= 0
    assert res.info["wall_seconds"] == pytest.approx(res.seconds + res.info["compile_seconds"])
    assert res.info["m_forget"] == flipped.sum()
    leaves = jax.tree_util.tree_leaves(res.state.params)
    assert all(np.isfinite(np.asarray(leaf)).all() for leaf in leaves)
    changed = {path for path, a, b in _diff(state.params, res.state.params)}
    if method in ("influence", "ssse"):
        assert changed == {"params/head/kernel"}  # only the curvature scope moves
    else:
        assert "params/layers_0/kernel" in changed


def _diff(a, b):
    flat_a = jax.tree_util.tree_flatten_with_path(a)[0]
    flat_b = jax.tree_util.tree_flatten_with_path(b)[0]
    for (path, la), (_, lb) in zip(flat_a, flat_b, strict=True):
        if not np.array_equal(np.asarray(la), np.asarray(lb)):
            yield "/".join(str(getattr(p, "key", p)) for p in path), la, lb


def test_retrain_equals_training_from_scratch_on_the_rest(noisy):
    model, state, x, y, _, flipped = noisy
    res = unlearn("retrain", model, state, x, y, flipped, seed=0, train_config=CONFIG)
    keep = ~flipped
    direct, _ = train(model, x, y, 0, CONFIG, keep_N=keep)
    for la, lb in zip(
        jax.tree_util.tree_leaves(res.state.params),
        jax.tree_util.tree_leaves(direct.params),
        strict=True,
    ):
        np.testing.assert_array_equal(la, lb)


def test_masked_training_is_training_on_the_subset():
    """Kept samples only: what the forgotten samples hold never matters."""
    x, y = blobs(96, 6, seed=4)
    x = x.astype(np.float32)
    keep = np.arange(96) % 3 != 0
    model = make_model([8], 2)
    config = TrainConfig(batch_size=16, epochs=3)
    a, hist_a = train(model, x, y, 0, config, keep_N=keep)
    x_junk, y_junk = x.copy(), y.copy()
    x_junk[~keep] = 1e3
    y_junk[~keep] = 1 - y_junk[~keep]
    b, hist_b = train(model, x_junk, y_junk, 0, config, keep_N=keep)
    for la, lb in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(la, lb)
    np.testing.assert_array_equal(hist_a.loss_E, hist_b.loss_E)
    # 64 kept samples, batch 16: 4 updates per epoch, so 12 momentum steps in all.
    steps = a.opt_state[0].trace["params"]["head"]["kernel"]
    assert np.isfinite(np.asarray(steps)).all()


def test_forgetting_the_flips_lowers_loss_on_clean_labels(noisy):
    """Every method should fit the true labels of the training set better afterwards."""
    from mislabel.model import per_sample_loss

    model, state, x, y, y_clean, flipped = noisy
    before = float(per_sample_loss(model.apply(state.params, x), y_clean).mean())
    for method in METHODS:
        res = unlearn(method, model, state, x, y, flipped, seed=0, train_config=CONFIG)
        after = float(per_sample_loss(model.apply(res.state.params, x), y_clean).mean())
        assert after < before, method


def test_empty_forget_set_leaves_closed_form_updates_unchanged(noisy):
    model, state, x, y, _, _ = noisy
    none = np.zeros(len(y), bool)
    for method in ("influence", "ssse", "influence_full", "ssse_full"):
        res = unlearn(method, model, state, x, y, none, seed=0, train_config=CONFIG)
        for a, b in zip(
            jax.tree_util.tree_leaves(res.state.params),
            jax.tree_util.tree_leaves(state.params),
            strict=True,
        ):
            np.testing.assert_allclose(a, b, atol=1e-7)


def test_bad_forget_sets_and_methods_are_refused(noisy):
    model, state, x, y, _, flipped = noisy
    with pytest.raises(ValueError, match="whole training set"):
        unlearn("influence", model, state, x, y, np.ones(len(y), bool), seed=0)
    with pytest.raises(ValueError, match="boolean of shape"):
        unlearn("influence", model, state, x, y, flipped[:-1], seed=0)
    with pytest.raises(ValueError, match="allowed: influence, ssse"):
        unlearn("forget", model, state, x, y, flipped, seed=0)


def test_every_method_and_detector_runs_on_ten_classes():
    """All ten classes (e.g. Fashion-MNIST): symmetric noise to another class, every
    detector scores, every unlearner returns finite parameters."""
    from mislabel.detect import score_detector
    from mislabel.names import DETECTORS
    from mislabel.settings import CurvatureSettings, UnlearningSettings

    rng = np.random.default_rng(0)
    centers = rng.normal(scale=3.0, size=(10, 8))
    y_clean = np.repeat(np.arange(10), 30).astype(np.int32)
    x = (centers[y_clean] + rng.normal(size=(300, 8))).astype(np.float32)
    y, flipped = inject_noise(y_clean, 10, 0.2, "symmetric", seed=0)
    assert (y[flipped] != y_clean[flipped]).all() and set(np.unique(y)) == set(range(10))
    config = TrainConfig(batch_size=16, epochs=5)
    model = make_model([16], 10)
    state, hist = train(model, x, y, 0, config)
    curvature = CurvatureSettings(lanczos_rank=10, cg_maxiter=50)
    for detector in DETECTORS:
        result = score_detector(
            detector,
            model,
            state.params,
            x,
            y,
            train_config=config,
            margin_ExN=np.asarray(hist.margin_ExN),
            curvature=curvature,
            detection=None,
        )
        assert result.scores_N.shape == (300,) and np.isfinite(result.scores_N).all(), detector
    settings = UnlearningSettings(finetune_epochs=2, neggrad_epochs=1, relabel_epochs=2)
    for method in METHODS:
        res = unlearn(
            method,
            model,
            state,
            x,
            y,
            flipped,
            seed=0,
            train_config=config,
            curvature=curvature,
            unlearning=settings,
        )
        leaves = jax.tree_util.tree_leaves(res.state.params)
        assert all(np.isfinite(np.asarray(leaf)).all() for leaf in leaves), method


@pytest.mark.parametrize("method", ["influence", "ssse"])
def test_full_network_updates_equal_the_dense_newton_step(method):
    """theta + scale (H_w + d I)^-1 sum_forget g, with H_w the dense Hessian (tiny MLP)."""
    import jax.numpy as jnp

    from mislabel.full_curvature import flatten, make_weighted_loss
    from mislabel.precision import float64, to_float64
    from mislabel.unlearn import influence_update, ssse_update

    x, y_clean = blobs(60, 4, seed=3, sep=2.0)
    y, flipped = inject_noise(y_clean, 2, 0.1, "exact", seed=0)
    model = make_model([3], 2)
    state, _ = train(model, x.astype(np.float32), y, 0, TrainConfig(batch_size=10, epochs=5))
    damping, n, m = 0.5, len(y), int(flipped.sum())
    update = influence_update if method == "influence" else ssse_update
    new, info = update(
        model, state.params, x, y, flipped, scope="full", damping=damping, cg=(1e-12, 500)
    )
    assert info["cg_converged"]
    with float64():
        params = to_float64(state.params)
        theta, _ = flatten(params)
        x64, y64 = jnp.asarray(x, jnp.float64), jnp.asarray(y)
        keep = (~flipped).astype(np.float64)
        w, scale = (
            (np.full(n, 1 / n), 1 / n) if method == "influence" else (keep / (n - m), 1 / (n - m))
        )
        hess = np.asarray(
            jax.hessian(make_weighted_loss(model, params, x64, y64, jnp.asarray(w)))(theta)
        )
        g = np.asarray(
            jax.grad(
                make_weighted_loss(model, params, x64, y64, jnp.asarray(flipped, jnp.float64))
            )(theta)
        )
        expected = np.asarray(theta) + scale * np.linalg.solve(
            hess + damping * np.eye(theta.size), g
        )
        got = np.asarray(flatten(to_float64(new))[0])
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


def test_full_network_damping_doubles_until_the_hessian_is_positive_definite(noisy):
    """With a tiny damping H + d I is indefinite: CG meets negative curvature, the damping is
    doubled until the solve converges, and both values are reported."""
    from mislabel.unlearn import ssse_update

    model, state, x, y, _, flipped = noisy
    _, info = ssse_update(model, state.params, x, y, flipped, scope="full", damping=0.01)
    assert info["damping"] == 0.01
    assert info["damping_used"] > info["damping"], info
    assert info["cg_converged"] and not info["cg_negative_curvature"], info
