"""NegGrad+ and relabelling: ground truth (fine-tuning, a hand-rolled loop) and behaviour."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from mislabel.network.mlp import init_params, make_model, per_sample_loss, predict
from mislabel.network.train import TrainState, continue_training, seed_keys, train
from mislabel.noise import inject_noise
from mislabel.settings import TrainConfig
from mislabel.unlearners.neggrad_plus import _neggrad_fit, epoch_batches, neggrad_plus
from mislabel.unlearners.relabel import corrected_labels, relabel
from tests.conftest import blobs

CONFIG = TrainConfig(lr=0.05, momentum=0.9, batch_size=16, epochs=10)
EPOCHS = 3  # unlearning epochs in these tests (one compiled program for all of them)


@pytest.fixture(scope="module")
def noisy():
    x, y_clean = blobs(300, 10, seed=2)
    y, flipped = inject_noise(y_clean, 2, 0.2, "exact", seed=1)
    model = make_model([16], 2)
    state, _ = train(model, x.astype(np.float32), y, 0, CONFIG)
    return model, state, x.astype(np.float32), y, y_clean, flipped


def _key():
    return seed_keys(0)[1]


def _assert_same(a, b):
    for la, lb in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(la), np.asarray(lb))


def _forget_loss(model, state, x, y, forget):
    return float(per_sample_loss(model.apply(state.params, x[forget]), y[forget]).mean())


def test_neggrad_raises_forget_loss_and_keeps_retained(noisy):
    model, state, x, y, _, flipped = noisy
    before = _forget_loss(model, state, x, y, flipped)
    new = neggrad_plus(model, state, x, y, flipped, _key(), CONFIG, epochs=EPOCHS)
    tuned = neggrad_plus(model, state, x, y, flipped, _key(), CONFIG, alpha=1.0, epochs=EPOCHS)
    after = _forget_loss(model, new, x, y, flipped)
    # Fine-tuning alone raises the loss on the flipped labels; the ascent term far more.
    assert after > 2 * _forget_loss(model, tuned, x, y, flipped) > 2 * before
    retained_acc = np.mean(np.asarray(predict(model, new.params, x))[~flipped] == y[~flipped])
    assert retained_acc > 0.9


def test_alpha_one_is_fine_tuning_on_the_retained(noisy):
    """alpha = 1 zeroes the forget term and orders the retain batches exactly as `fit`."""
    model, state, x, y, _, flipped = noisy
    new = neggrad_plus(model, state, x, y, flipped, _key(), CONFIG, alpha=1.0, epochs=EPOCHS)
    tuned, _ = continue_training(
        model, state, x, y, ~flipped, _key(), CONFIG._replace(epochs=EPOCHS)
    )
    _assert_same(new, tuned)


def _reference(model, state, x, y, forget, key, alpha, epochs):
    """Hand-rolled NegGrad+: a Python loop over the same batches, optax SGD step by step."""
    optimizer = optax.sgd(CONFIG.lr, momentum=CONFIG.momentum)
    has_forget = bool(forget.any())
    x, y = jnp.asarray(x), jnp.asarray(y)

    def objective(params, retain_B, forget_B):
        loss_r = per_sample_loss(model.apply(params, x[retain_B]), y[retain_B]).mean()
        if not has_forget:
            return alpha * loss_r
        loss_f = per_sample_loss(model.apply(params, x[forget_B]), y[forget_B]).mean()
        return alpha * loss_r - (1 - alpha) * loss_f

    grad_fn = jax.jit(jax.grad(objective))
    params, opt_state = state
    for key_e in jax.random.split(key, epochs):
        batches = epoch_batches(key_e, jnp.asarray(forget), CONFIG.batch_size)
        for retain_B, valid, forget_B in zip(*batches, strict=True):
            if not valid:
                continue
            updates, opt_state = optimizer.update(
                grad_fn(params, retain_B, forget_B), opt_state, params
            )
            params = optax.apply_updates(params, updates)
    return TrainState(params, opt_state)


@pytest.mark.parametrize("alpha, empty", [(0.9, False), (0.6, True)])
def test_neggrad_matches_a_hand_rolled_loop(noisy, alpha, empty):
    """Empty forget set: the ascent term is dropped, leaving alpha * retain loss."""
    model, state, x, y, _, flipped = noisy
    forget = np.zeros_like(flipped) if empty else flipped
    new = neggrad_plus(model, state, x, y, forget, _key(), CONFIG, alpha=alpha, epochs=EPOCHS)
    ref = _reference(model, state, x, y, forget, _key(), alpha, EPOCHS)
    for la, lb in zip(jax.tree_util.tree_leaves(new), jax.tree_util.tree_leaves(ref), strict=True):
        np.testing.assert_allclose(np.asarray(la), np.asarray(lb), rtol=1e-4, atol=1e-5)
    assert all(np.isfinite(np.asarray(leaf)).all() for leaf in jax.tree_util.tree_leaves(new))


def test_epoch_batches_cover_retained_once_and_draw_only_forgotten():
    n, size = 50, 8
    forget = np.zeros(n, bool)
    forget[[3, 7, 20]] = True
    b = jax.jit(epoch_batches, static_argnums=2)(jax.random.PRNGKey(5), jnp.asarray(forget), size)
    assert b.retain_SxB.shape == b.forget_SxB.shape == (n // size, size)
    used = np.asarray(b.retain_SxB)[np.asarray(b.valid_S)].ravel()
    assert len(used) == (n - 3) // size * size and len(set(used.tolist())) == len(used)
    assert not forget[used].any()
    assert set(np.asarray(b.forget_SxB).ravel().tolist()) <= {3, 7, 20}


def test_neggrad_is_deterministic_and_compiled_once(noisy):
    model, state, x, y, _, flipped = noisy
    a = neggrad_plus(model, state, x, y, flipped, _key(), CONFIG, epochs=EPOCHS)
    compiled = _neggrad_fit._cache_size()
    _assert_same(a, neggrad_plus(model, state, x, y, flipped, _key(), CONFIG, epochs=EPOCHS))
    other = jax.random.PRNGKey(9)
    b = neggrad_plus(model, state, x, y, flipped, other, CONFIG, epochs=EPOCHS)
    assert not np.array_equal(
        a.params["params"]["head"]["kernel"], b.params["params"]["head"]["kernel"]
    )
    few = np.zeros_like(flipped)
    few[np.flatnonzero(flipped)[:5]] = True
    for forget, alpha in ((few, 0.95), (np.zeros_like(flipped), 0.5), (flipped, 0.0)):
        neggrad_plus(model, state, x, y, forget, _key(), CONFIG, alpha=alpha, epochs=EPOCHS)
    assert _neggrad_fit._cache_size() == compiled


def test_neggrad_refuses_bad_arguments(noisy):
    model, state, x, y, _, flipped = noisy

    def run(forget=flipped, **kw):
        return neggrad_plus(model, state, x, y, forget, _key(), CONFIG, **kw)

    for alpha in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="alpha must be in"):
            run(alpha=alpha)
    for epochs in (0, -1, 2.5):
        with pytest.raises(ValueError, match="epochs must be"):
            run(epochs=epochs)
    for bad in (flipped.astype(int), flipped[:-1], flipped[None]):
        with pytest.raises(ValueError, match="boolean of shape"):
            run(forget=bad)
    with pytest.raises(ValueError, match="whole training set"):
        run(forget=np.ones_like(flipped))


def _identity_model(n_classes):
    """Logits equal the inputs: no hidden layer, identity head."""
    model = make_model([], n_classes)
    params = init_params(model, jax.random.PRNGKey(0), n_classes)
    params["params"]["head"]["kernel"] = jnp.eye(n_classes)
    params["params"]["head"]["bias"] = jnp.zeros(n_classes)
    return model, params


def test_corrected_labels_binary_flips_exactly_the_flagged(noisy):
    model, state, x, y, _, flipped = noisy
    new = np.asarray(corrected_labels(model, state.params, x, y, flipped))
    np.testing.assert_array_equal(new[flipped], 1 - y[flipped])
    np.testing.assert_array_equal(new[~flipped], y[~flipped])


def test_corrected_labels_takes_the_best_other_class():
    model, params = _identity_model(3)
    logits = np.array(
        [[5.0, 2.0, 1.0], [5.0, 2.0, 1.0], [0.0, 1.0, 3.0], [0.0, 1.0, 3.0], [1.0, 9.0, 4.0]],
        np.float32,
    )
    y = np.array([0, 1, 2, 0, 2])
    flagged = np.array([True, True, True, True, False])
    new = np.asarray(corrected_labels(model, params, logits, y, flagged))
    # Given label masked out: 0 -> best of {1, 2}; 1 -> 0; 2 -> 1; 0 -> 2; unflagged stays.
    np.testing.assert_array_equal(new, [1, 0, 1, 2, 2])
    with pytest.raises(ValueError, match="boolean of shape"):
        corrected_labels(model, params, logits, y, flagged.astype(np.int8))


def test_relabel_with_perfect_flags_recovers_the_truth(noisy):
    model, state, x, y, y_clean, flipped = noisy
    x_test, y_test = blobs(400, 10, seed=3)
    x_test = x_test.astype(np.float32)
    new, new_y = relabel(model, state, x, y, flipped, _key(), CONFIG, epochs=CONFIG.epochs)
    np.testing.assert_array_equal(new_y, y_clean)
    assert new_y.dtype == np.int32
    before = np.mean(np.asarray(predict(model, state.params, x_test)) == y_test)
    after = np.mean(np.asarray(predict(model, new.params, x_test)) == y_test)
    assert after >= before
    with pytest.raises(ValueError, match="epochs must be"):
        relabel(model, state, x, y, flipped, _key(), CONFIG, epochs=0)
