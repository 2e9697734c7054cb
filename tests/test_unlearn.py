"""Every unlearner: contracts, what changes, and that forgetting noise helps."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from mislabel.checks import IndefiniteHessianError
from mislabel.network.mlp import init_params, make_model
from mislabel.network.precision import float64, to_float64
from mislabel.network.train import kept_batches, train
from mislabel.noise import inject_noise
from mislabel.registry import UNLEARNERS
from mislabel.settings import CurvatureSettings, TrainConfig, UnlearningSettings
from mislabel.unlearn import unlearn
from tests.conftest import blobs

CONFIG = TrainConfig(batch_size=16, epochs=10)


@pytest.fixture(scope="module")
def noisy():
    x, y_clean = blobs(320, 10, seed=2, sep=2.0)
    y, flipped = inject_noise(y_clean, 2, 0.3, "exact", seed=1)
    model = make_model([16], 2)
    state, _ = train(model, x.astype(np.float32), y, 0, CONFIG)
    return model, state, x.astype(np.float32), y, y_clean, flipped


@pytest.mark.parametrize("unlearner", UNLEARNERS)
def test_each_method_returns_finite_params_and_timing(noisy, unlearner):
    model, state, x, y, _, flipped = noisy
    settings = UnlearningSettings(finetune_epochs=3, neggrad_epochs=2, relabel_epochs=3)
    start = time.time()  # the clock of `mislabel.stopwatch`
    res = unlearn(
        unlearner, model, state, x, y, flipped, seed=0, train_config=CONFIG, unlearning=settings
    )
    outside = time.time() - start
    # One run: its wall time, bounded by a clock around the call, splits into compilation
    # and the unlearner itself.
    assert 0 < res.seconds <= res.info["wall_seconds"] <= outside
    assert 0 <= res.info["compile_seconds"] <= res.info["wall_seconds"]
    assert res.info["wall_seconds"] == pytest.approx(res.seconds + res.info["compile_seconds"])
    assert res.info["m_forget"] == flipped.sum()
    leaves = jax.tree_util.tree_leaves(res.state.params)
    assert all(np.isfinite(np.asarray(leaf)).all() for leaf in leaves)
    changed = {path for path, a, b in _diff(state.params, res.state.params)}
    if unlearner in ("influence", "ssse"):
        assert changed == {"params/head/kernel"}  # only the curvature scope moves
    else:
        assert "params/layers_0/kernel" in changed


def _diff(a, b):
    flat_a = jax.tree_util.tree_flatten_with_path(a)[0]
    flat_b = jax.tree_util.tree_flatten_with_path(b)[0]
    for (path, la), (_, lb) in zip(flat_a, flat_b, strict=True):
        if not np.array_equal(np.asarray(la), np.asarray(lb)):
            yield "/".join(str(getattr(p, "key", p)) for p in path), la, lb


# --- an independent SGD: numpy, float64, gradients of the ReLU MLP written out by hand ---


def numpy_params(params):
    """{(layer, name): float64 array} of a Flax parameter pytree."""
    return {
        (layer, name): np.asarray(leaf, np.float64)
        for layer, leaves in params["params"].items()
        for name, leaf in leaves.items()
    }


def numpy_mlp_grads(p, x, y):
    """Gradient of the mean cross-entropy of a ReLU MLP over a batch, by backpropagation."""
    n_hidden = len(p) // 2 - 1
    acts, pre = [np.asarray(x, np.float64)], []
    for i in range(n_hidden):
        pre.append(acts[-1] @ p[f"layers_{i}", "kernel"] + p[f"layers_{i}", "bias"])
        acts.append(np.maximum(pre[-1], 0.0))
    logits = acts[-1] @ p["head", "kernel"] + p["head", "bias"]
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    delta = (prob - np.eye(prob.shape[1])[y]) / len(y)
    grads = {("head", "kernel"): acts[-1].T @ delta, ("head", "bias"): delta.sum(axis=0)}
    back = delta @ p["head", "kernel"].T
    for i in reversed(range(n_hidden)):
        back = back * (pre[i] > 0)
        grads[f"layers_{i}", "kernel"] = acts[i].T @ back
        grads[f"layers_{i}", "bias"] = back.sum(axis=0)
        back = back @ p[f"layers_{i}", "kernel"].T
    return grads


def epoch_batches(seed, keep, size, epochs):
    """The minibatches of every epoch (data-order key of `seed`, split per epoch); each must
    be a full batch of distinct kept samples."""
    data_key = jax.random.split(jax.random.PRNGKey(seed))[1]
    out = []
    for key_e in jax.random.split(data_key, epochs):
        idx, valid = kept_batches(key_e, jnp.asarray(keep), size)
        batches = np.asarray(idx)[np.asarray(valid)]
        assert batches.shape == (int(keep.sum()) // size, size)
        assert keep[batches].all() and np.unique(batches).size == batches.size
        out.append(batches)
    return out


def numpy_sgd(params, trace, x, y, batches, config):
    """Heavy-ball SGD: ``t <- g + momentum t; theta <- theta - lr t`` over the batches."""
    p, t = numpy_params(params), numpy_params(trace)
    for epoch in batches:
        for idx in epoch:
            g = numpy_mlp_grads(p, x[idx], y[idx])
            for k in p:
                t[k] = g[k] + config.momentum * t[k]
                p[k] = p[k] - config.lr * t[k]
    return p, t


def assert_matches_numpy(state, expected_params, expected_trace):
    """Parameters and momentum trace of `state` against the float64 reference."""
    for got, want in ((state.params, expected_params), (state.opt_state[0].trace, expected_trace)):
        got = numpy_params(got)
        assert got.keys() == want.keys()
        for k in want:
            scale = np.abs(want[k]).max()
            np.testing.assert_allclose(got[k], want[k], rtol=1e-4, atol=1e-5 * scale, err_msg=k)


def test_retrain_is_sgd_with_momentum_from_the_seeds_initialisation_on_the_rest(noisy):
    model, state, x, y, _, flipped = noisy
    res = unlearn("retrain", model, state, x, y, flipped, seed=0, train_config=CONFIG)
    init = init_params(model, jax.random.split(jax.random.PRNGKey(0))[0], x.shape[1])
    zeros = jax.tree_util.tree_map(np.zeros_like, init)
    batches = epoch_batches(0, ~flipped, CONFIG.batch_size, CONFIG.epochs)
    assert_matches_numpy(res.state, *numpy_sgd(init, zeros, x, y, batches, CONFIG))


def test_finetune_continues_sgd_with_the_trained_momentum_on_the_rest(noisy):
    model, state, x, y, _, flipped = noisy
    settings = UnlearningSettings(finetune_epochs=3)
    res = unlearn(
        "finetune", model, state, x, y, flipped, seed=0, train_config=CONFIG, unlearning=settings
    )
    assert np.abs(np.asarray(state.opt_state[0].trace["params"]["head"]["kernel"])).max() > 0
    batches = epoch_batches(0, ~flipped, CONFIG.batch_size, 3)
    expected = numpy_sgd(state.params, state.opt_state[0].trace, x, y, batches, CONFIG)
    assert_matches_numpy(res.state, *expected)


def test_masked_training_is_sgd_with_momentum_on_the_subset():
    """Kept samples only: what the forgotten samples hold never matters, and the run is
    heavy-ball SGD on the kept samples' minibatches."""
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
    init = init_params(model, jax.random.split(jax.random.PRNGKey(0))[0], 6)
    zeros = jax.tree_util.tree_map(np.zeros_like, init)
    batches = epoch_batches(0, keep, 16, 3)
    assert sum(len(e) for e in batches) == 12
    assert_matches_numpy(a, *numpy_sgd(init, zeros, x, y, batches, config))


def test_forgetting_the_flips_lowers_loss_on_clean_labels(noisy):
    """Every unlearner should fit the true labels of the training set better afterwards."""
    from mislabel.network.mlp import per_sample_loss

    model, state, x, y, y_clean, flipped = noisy
    before = float(per_sample_loss(model.apply(state.params, x), y_clean).mean())
    for unlearner in UNLEARNERS:
        res = unlearn(unlearner, model, state, x, y, flipped, seed=0, train_config=CONFIG)
        after = float(per_sample_loss(model.apply(res.state.params, x), y_clean).mean())
        assert after < before, unlearner


def test_empty_forget_set_leaves_closed_form_updates_unchanged(noisy):
    model, state, x, y, _, _ = noisy
    none = np.zeros(len(y), bool)
    for unlearner in ("influence", "ssse", "influence_full", "ssse_full"):
        res = unlearn(unlearner, model, state, x, y, none, seed=0, train_config=CONFIG)
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
    from mislabel.registry import DETECTORS
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
    for unlearner in UNLEARNERS:
        res = unlearn(
            unlearner,
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
        assert all(np.isfinite(np.asarray(leaf)).all() for leaf in leaves), unlearner


# --- full-network Newton steps against a dense Hessian of a plain re-implementation ---


def plain_weighted_loss(params, x, y, w):
    """``sum_i w_i L(z_i)`` of a ReLU MLP, written out (log-softmax by hand)."""
    p = params["params"]
    h = x
    for i in range(len(p) - 1):
        h = jnp.maximum(h @ p[f"layers_{i}"]["kernel"] + p[f"layers_{i}"]["bias"], 0.0)
    z = h @ p["head"]["kernel"] + p["head"]["bias"]
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - jnp.log(jnp.exp(z).sum(axis=1, keepdims=True))
    return -jnp.sum(w * log_p[jnp.arange(len(y)), y])


@pytest.fixture(scope="module")
def tiny_full():
    """A 23-parameter MLP after 5 SGD epochs, its forget set, and for each closed form the
    dense float64 Hessian H_w, the forget-gradient sum G and the scale (numpy)."""
    x, y_clean = blobs(60, 4, seed=3, sep=2.0)
    y, flipped = inject_noise(y_clean, 2, 0.1, "exact", seed=0)
    model = make_model([3], 2)
    state, _ = train(model, x.astype(np.float32), y, 0, TrainConfig(batch_size=10, epochs=5))
    n, m = len(y), int(flipped.sum())
    dense = {}
    with float64():
        theta, unravel = ravel_pytree(to_float64(state.params))
        x64, y64 = jnp.asarray(x, jnp.float64), jnp.asarray(y)

        def loss(w):
            return lambda t: plain_weighted_loss(unravel(t), x64, y64, jnp.asarray(w))

        g = np.asarray(jax.grad(loss(flipped.astype(np.float64)))(theta))
        for unlearner, w, scale in (
            ("influence", np.full(n, 1 / n), 1 / n),
            ("ssse", (~flipped) / (n - m), 1 / (n - m)),
        ):
            hess = np.asarray(jax.hessian(loss(w))(theta))
            dense[unlearner] = (0.5 * (hess + hess.T), g, scale)
    return model, state, x, y, flipped, np.asarray(theta), dense


def flat(params):
    with float64():
        return np.asarray(ravel_pytree(to_float64(params))[0])


def full_update(tiny_full, unlearner, damping, cg_tol=1e-12, cg_maxiter=500):
    """`influence_update` or `ssse_update` over every parameter, on the tiny MLP."""
    from mislabel.unlearners.closed_form import influence_update, ssse_update

    model, state, x, y, flipped = tiny_full[:5]
    update = influence_update if unlearner == "influence" else ssse_update
    return update(
        model,
        state.params,
        x,
        y,
        flipped,
        scope="full",
        curvature=CurvatureSettings(full_damping=damping, cg_tol=cg_tol, cg_maxiter=cg_maxiter),
    )


@pytest.mark.parametrize("unlearner", ["influence", "ssse"])
def test_full_network_updates_equal_the_dense_newton_step(tiny_full, unlearner):
    """theta + scale (H_w + d I)^-1 sum_forget g, with H_w the dense Hessian (tiny MLP)."""
    model, state, x, y, flipped, theta, dense = tiny_full
    hess, g, scale = dense[unlearner]
    damping = 0.5
    assert np.linalg.eigvalsh(hess).min() + damping > 0  # positive definite: no doubling
    new, info = full_update(tiny_full, unlearner, damping)
    assert info["cg_converged"] and info["damping_used"] == damping
    expected = theta + scale * np.linalg.solve(hess + damping * np.eye(theta.size), g)
    np.testing.assert_allclose(flat(new), expected, rtol=1e-8, atol=1e-10)


def test_full_network_damping_doubles_to_the_first_positive_definite_value(tiny_full):
    """H_rem + d I indefinite: the damping is doubled until CG meets no negative curvature;
    `damping_used` is the damping of the returned step, which is the dense Newton step."""
    model, state, x, y, flipped, theta, dense = tiny_full
    hess, g, scale = dense["ssse"]
    lam_min = np.linalg.eigvalsh(hess).min()
    assert lam_min < 0  # SGD-trained, not a minimum
    damping = -lam_min / 3  # d, 2d indefinite; 4d positive definite
    new, info = full_update(tiny_full, "ssse", damping)
    assert info["damping"] == damping and info["damping_used"] == 4 * damping, info
    assert info["cg_converged"] and not info["cg_negative_curvature"], info
    used = info["damping_used"]
    expected = theta + scale * np.linalg.solve(hess + used * np.eye(theta.size), g)
    np.testing.assert_allclose(flat(new), expected, rtol=1e-8, atol=1e-10)


def test_full_network_step_is_refused_when_every_doubling_stays_indefinite(tiny_full):
    """No damping tried (d .. 64 d) makes H_rem + d I positive definite: a clear error, never a
    truncated iterate, and it says what to raise."""
    from mislabel.curvature.inverse import MAX_DAMPING_DOUBLINGS

    model, state, x, y, flipped, _, dense = tiny_full
    lam_min = np.linalg.eigvalsh(dense["ssse"][0]).min()
    damping = -lam_min / 2 ** (MAX_DAMPING_DOUBLINGS + 2)  # the last try is |lambda_min| / 4
    last = damping * 2**MAX_DAMPING_DOUBLINGS
    message = rf"from {damping:g} to {last:g}.*Raise full_damping .* at least {2 * last:g}"
    with pytest.raises(IndefiniteHessianError, match=message):
        full_update(tiny_full, "ssse", damping)
    curvature = CurvatureSettings(full_damping=damping)
    with pytest.raises(IndefiniteHessianError, match="still indefinite"):
        unlearn("ssse_full", model, state, x, y, flipped, seed=0, curvature=curvature)


def test_full_network_step_out_of_iterations_is_marked_not_converged(tiny_full):
    """One CG iteration from 0 is ``(g.g / g.A g) g`` with A = H_w + d I: returned (a valid,
    partial Newton step), with cg_converged False, its true residual and a warning."""
    model, state, x, y, flipped, theta, dense = tiny_full
    hess, g, scale = dense["influence"]
    damping = 1.0
    a = hess + damping * np.eye(theta.size)
    assert np.linalg.eigvalsh(a).min() > 0
    with pytest.warns(RuntimeWarning, match="did not converge in 1 iterations.*cg_maxiter"):
        new, info = full_update(tiny_full, "influence", damping, 1e-6, 1)
    step = (g @ g) / (g @ a @ g) * g
    np.testing.assert_allclose(flat(new), theta + scale * step, rtol=1e-9, atol=1e-12)
    assert not info["cg_converged"] and info["cg_iterations"] == 1
    assert info["damping_used"] == damping
    residual = np.linalg.norm(a @ step - g) / np.linalg.norm(g)
    assert info["cg_relative_residual"] == pytest.approx(residual, rel=1e-9)
