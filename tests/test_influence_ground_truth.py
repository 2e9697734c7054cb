"""Influence scores and Newton (SSSE) updates against independent ground truth.

1. Actual retraining on a convex problem: multinomial logistic regression (an MLP without
   hidden layers); the curvature scope is its kernel, the bias stays fixed, so the loss is
   convex in the scope. "Retraining" is L-BFGS (SciPy) to a gradient norm of 1e-12 without
   the forgotten samples. The two-class softmax is invariant to adding one vector to both
   kernel columns, so parameters are compared on the identifiable part: the difference of
   the two columns.
2. The dense formulas in plain numpy, at the optimum of (1) and at a non-stationary point (an
   MLP after a few SGD epochs): per-sample gradients ``h (x) (p - e_y)`` and the Hessian
   ``sum_i w_i (h_i h_i^T) (x) (diag p_i - p_i p_i^T)`` of the last-layer kernel written out
   by hand (`NumpyHead`), inverted by ``numpy.linalg.pinv`` / ``solve``. Nothing of the
   package's curvature code is used to build the truth.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize
from scipy.stats import pearsonr

from mislabel.curvature.inverse import influence_scores, make_inverse
from mislabel.curvature.last_layer import (
    get_scoped,
    per_sample_grads,
    set_scoped,
)
from mislabel.network.mlp import init_params, make_model, per_sample_loss
from mislabel.network.precision import float64, to_float64
from mislabel.settings import CurvatureSettings
from mislabel.unlearners.closed_form import influence_update, ssse_update
from tests.conftest import blobs
from tests.helpers import make_mean_loss

N, D = 300, 3


def fit_kernel(model, params, x, y, theta0):
    """Minimise the mean loss over the kernel to convergence (ground-truth retraining)."""
    loss = jax.jit(make_mean_loss(model, params, "last_layer"))
    grad = jax.jit(jax.grad(make_mean_loss(model, params, "last_layer")))
    res = optimize.minimize(
        lambda t: float(loss(jnp.asarray(t), x, y)),
        np.asarray(theta0),
        jac=lambda t: np.asarray(grad(jnp.asarray(t), x, y)),
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 10_000},
    )
    # L-BFGS may stop on its f-tolerance a little short of the optimum (|grad| ~ 1e-9, as
    # BLAS rounding decides); a few exact Newton steps on the convex loss finish the job.
    theta = res.x
    hess = jax.jit(jax.hessian(make_mean_loss(model, params, "last_layer")))
    for _ in range(3):
        g = np.asarray(grad(jnp.asarray(theta), x, y))
        if np.abs(g).max() < 1e-12:
            break
        theta = theta - np.linalg.lstsq(np.asarray(hess(jnp.asarray(theta), x, y)), g)[0]
    assert np.abs(np.asarray(grad(jnp.asarray(theta), x, y))).max() < 1e-9, res.message
    return theta


def identifiable(theta):
    kernel = np.asarray(theta).reshape(D, 2)
    return kernel[:, 1] - kernel[:, 0]


@pytest.fixture(scope="module")
def convex():
    x, y = blobs(N, D, seed=3, sep=1.5)
    model = make_model([], 2)
    with float64():
        params = to_float64(init_params(model, jax.random.PRNGKey(0), D))
        x, y = jnp.asarray(x), jnp.asarray(y)
        theta_hat = fit_kernel(model, params, x, y, get_scoped(params, "last_layer"))
        params = set_scoped(params, jnp.asarray(theta_hat), "last_layer")
        yield model, params, x, y


def retrained_delta(convex, forget):
    model, params, x, y = convex
    keep = np.flatnonzero(~forget)
    theta_hat = np.asarray(get_scoped(params, "last_layer"))
    theta_new = fit_kernel(model, params, x[keep], y[keep], theta_hat)
    return identifiable(theta_new) - identifiable(theta_hat)


def forget_mask(indices):
    mask = np.zeros(N, bool)
    mask[list(indices)] = True
    return mask


@pytest.mark.parametrize("indices", [(5,), (1, 8, 40, 77, 120)])
def test_influence_update_matches_retraining(convex, indices):
    model, params, x, y = convex
    forget = forget_mask(indices)
    with float64():
        new, _ = influence_update(model, params, x, y, forget, scope="last_layer")
        predicted = identifiable(get_scoped(new, "last_layer")) - identifiable(
            get_scoped(params, "last_layer")
        )
    actual = retrained_delta(convex, forget)
    # First-order in 1/n: the error is second order in the (small) removed weight.
    tol = 0.005 if len(indices) == 1 else 0.02
    assert np.linalg.norm(predicted - actual) < tol * np.linalg.norm(actual)


@pytest.mark.parametrize("indices", [(5,), (1, 8, 40, 77, 120)])
def test_ssse_newton_step_matches_retraining(convex, indices):
    model, params, x, y = convex
    forget = forget_mask(indices)
    with float64():
        new, info = ssse_update(model, params, x, y, forget, scope="last_layer")
        predicted = identifiable(get_scoped(new, "last_layer")) - identifiable(
            get_scoped(params, "last_layer")
        )
        infl, _ = influence_update(model, params, x, y, forget, scope="last_layer")
        infl_delta = identifiable(get_scoped(infl, "last_layer")) - identifiable(
            get_scoped(params, "last_layer")
        )
    actual = retrained_delta(convex, forget)
    assert info["method"] == "pinv"
    ssse_err = np.linalg.norm(predicted - actual)
    # Both are second-order accurate here (measured: 0.3% for one sample, about 1% for five);
    # neither is systematically closer on this problem.
    tol = 0.005 if len(indices) == 1 else 0.02
    assert ssse_err < tol * np.linalg.norm(actual)
    assert np.linalg.norm(infl_delta - actual) < tol * np.linalg.norm(actual)
    # The two closed forms are distinct updates (different curvature and 1/n factor).
    assert not np.allclose(predicted, infl_delta, rtol=1e-6)


def test_self_influence_predicts_leave_one_out_loss_change(convex):
    """g_z^T H^+ g_z / n ~ L(z, theta_{-z}) - L(z, theta_hat)."""
    model, params, x, y = convex
    with float64():
        inverse = make_inverse("last_layer", model, params, x, y)
        grads = per_sample_grads(model, params, x, y, "last_layer")
        scores = np.asarray(influence_scores(grads, lambda b: inverse.solve(b)[0])["if_self"])
        loss = make_mean_loss(model, params, "last_layer")
        theta_hat = np.asarray(get_scoped(params, "last_layer"))
        picks = np.argsort(scores)[:: N // 25][:25]
        actual = []
        for i in picks:
            keep = np.flatnonzero(np.arange(N) != i)
            theta_i = fit_kernel(model, params, x[keep], y[keep], theta_hat)
            actual.append(
                float(loss(jnp.asarray(theta_i), x[i : i + 1], y[i : i + 1]))
                - float(loss(jnp.asarray(theta_hat), x[i : i + 1], y[i : i + 1]))
            )
    assert pearsonr(scores[picks] / N, actual).statistic > 0.9
    np.testing.assert_allclose(scores[picks] / N, actual, rtol=0.2)


def test_test_point_influence_predicts_leave_one_out_test_loss(convex):
    """g_test^T H^+ g_z / n ~ L(test, theta_{-z}) - L(test, theta_hat) (the if_train formula)."""
    model, params, x, y = convex
    x_test, y_test = blobs(50, D, seed=11, sep=1.5)
    with float64():
        x_test, y_test = jnp.asarray(x_test), jnp.asarray(y_test)
        inverse = make_inverse("last_layer", model, params, x, y)
        grads = per_sample_grads(model, params, x, y, "last_layer")
        loss = make_mean_loss(model, params, "last_layer")
        theta_hat = get_scoped(params, "last_layer")
        g_test = jax.grad(loss)(theta_hat, x_test, y_test)
        predicted = np.asarray(grads @ inverse.solve(g_test)[0]) / N
        picks = np.argsort(np.abs(predicted))[-20:]
        actual = []
        for i in picks:
            keep = np.flatnonzero(np.arange(N) != i)
            theta_i = fit_kernel(model, params, x[keep], y[keep], np.asarray(theta_hat))
            actual.append(
                float(loss(jnp.asarray(theta_i), x_test, y_test))
                - float(loss(theta_hat, x_test, y_test))
            )
    assert pearsonr(predicted[picks], actual).statistic > 0.9


class NumpyHead:
    """An MLP's last-layer curvature written out in numpy (float64) from its weights.

    Per-sample gradients of the cross-entropy w.r.t. the head kernel (row-major, as
    ``kernel.reshape(-1)``): ``g_i = h_i (x) (p_i - e_{y_i})``; Hessian of
    ``sum_i w_i L_i``: ``sum_i w_i (h_i h_i^T) (x) (diag p_i - p_i p_i^T)``.
    """

    def __init__(self, params, x, y):
        layers = {
            name: {k: np.asarray(v, np.float64) for k, v in leaves.items()}
            for name, leaves in params["params"].items()
        }
        h = np.asarray(x, np.float64)
        for i in range(len(layers) - 1):
            h = np.maximum(h @ layers[f"layers_{i}"]["kernel"] + layers[f"layers_{i}"]["bias"], 0)
        logits = h @ layers["head"]["kernel"] + layers["head"]["bias"]
        logits = logits - logits.max(axis=1, keepdims=True)
        prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        n, c = prob.shape
        y = np.asarray(y)
        self.theta = layers["head"]["kernel"].reshape(-1)
        self.loss = -np.log(prob[np.arange(n), y])
        self.grads = (h[:, :, None] * (prob - np.eye(c)[y])[:, None, :]).reshape(n, -1)
        self._h = h
        self._cov = prob[:, :, None] * np.eye(c) - prob[:, :, None] * prob[:, None, :]

    def hessian(self, w):
        k, c = self._h.shape[1], self._cov.shape[1]
        return np.einsum("n,na,nb,ncd->acbd", w, self._h, self._h, self._cov).reshape(k * c, -1)


def numpy_inverse(hess, damping):
    """``pinv(H)`` (rcond as the package's rtol) or ``(H + damping I)^-1``, by numpy."""
    if damping == 0:
        return np.linalg.pinv(hess, rcond=1e-10, hermitian=True)
    return np.linalg.inv(hess + damping * np.eye(len(hess)))


def numpy_condition_number(hess, damping):
    """cond(H + damping I), or for the pseudo-inverse cond of H restricted to its range."""
    if damping > 0:
        return np.linalg.cond(hess + damping * np.eye(len(hess)))
    u, s, _ = np.linalg.svd(hess)
    basis = u[:, s > 1e-10 * s[0]]
    return np.linalg.cond(basis.T @ hess @ basis)


def numpy_scores(grads, inverse):
    """The three influence scores by their definitions, one sample at a time."""
    n = len(grads)
    total = grads.sum(axis=0)
    return {
        "if_self": np.array([g @ inverse @ g for g in grads]),
        "if_train": np.array([(total / n) @ inverse @ g for g in grads]),
        "if_train_minus_z": np.array([((total - g) / (n - 1)) @ inverse @ g for g in grads]),
    }


def test_vectorized_scores_match_the_dense_numpy_formulas(convex):
    model, params, x, y = convex
    ref = NumpyHead(params, x, y)
    with float64():
        inverse = make_inverse("last_layer", model, params, x, y)
        grads = np.asarray(per_sample_grads(model, params, x, y, "last_layer"))
        fast = {
            k: np.asarray(v)
            for k, v in influence_scores(jnp.asarray(grads), lambda b: inverse.solve(b)[0]).items()
        }
        losses = np.asarray(per_sample_loss(model.apply(params, x), y))
    np.testing.assert_allclose(grads, ref.grads, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(losses, ref.loss, rtol=1e-9, atol=1e-14)
    expected = numpy_scores(ref.grads, numpy_inverse(ref.hessian(np.full(N, 1 / N)), 0.0))
    scale = np.abs(expected["if_self"]).max()
    for name, values in expected.items():
        np.testing.assert_allclose(fast[name], values, rtol=1e-8, atol=1e-10 * scale, err_msg=name)


@pytest.fixture(scope="module")
def sgd_mlp():
    """Three classes, an MLP after 3 SGD epochs (far from any stationary point), 10% flipped."""
    from mislabel.network.train import train
    from mislabel.noise import inject_noise
    from mislabel.settings import TrainConfig

    rng = np.random.default_rng(7)
    centers = rng.normal(scale=2.0, size=(3, 4))
    y_clean = (np.arange(150) % 3).astype(np.int32)
    x = (centers[y_clean] + rng.normal(size=(150, 4))).astype(np.float32)
    y, flipped = inject_noise(y_clean, 3, 0.1, "exact", seed=0)
    model = make_model([5], 3)
    state, _ = train(model, x, y, 0, TrainConfig(batch_size=16, epochs=3))
    return model, state.params, x, y, flipped


@pytest.mark.parametrize("damping", [0.0, 0.05])
def test_scores_and_updates_match_numpy_at_a_non_stationary_point(sgd_mlp, damping):
    """if_* scores, the influence update theta + H^+ G / n and the SSSE step
    theta + H_rem^+ G / (n - m), with H^+ the pseudo-inverse or (H + d I)^-1, against numpy,
    at SGD-trained weights where the mean gradient is far from zero."""
    from mislabel.detectors.influence import anomaly_scores
    from mislabel.registry import PAPER_DETECTORS

    model, params, x, y, forget = sgd_mlp
    n, m = len(y), int(forget.sum())
    ref = NumpyHead(params, x, y)
    assert np.linalg.norm(ref.grads.mean(axis=0)) > 0.05  # not an optimum
    hess_all = ref.hessian(np.full(n, 1 / n))
    hess_rem = ref.hessian((~forget) / (n - m))
    for hess in (hess_all, hess_rem):  # a clear gap at the pseudo-inverse cut-off
        eig = np.abs(np.linalg.eigvalsh(hess))
        assert np.all((eig < 1e-13 * eig.max()) | (eig > 1e-4 * eig.max()))

    curvature = CurvatureSettings(damping=damping)
    scores, info = anomaly_scores(model, params, x, y, PAPER_DETECTORS, curvature=curvature)
    np.testing.assert_allclose(scores["loss"], ref.loss, rtol=1e-9, atol=1e-14)
    expected = numpy_scores(ref.grads, numpy_inverse(hess_all, damping))
    scale = np.abs(expected["if_self"]).max()
    for name, values in expected.items():
        np.testing.assert_allclose(
            scores[name], values, rtol=1e-8, atol=1e-10 * scale, err_msg=name
        )
    assert info["condition_number"] == pytest.approx(numpy_condition_number(hess_all, damping))
    assert info["rank"] == (hess_all.shape[0] if damping else np.linalg.matrix_rank(hess_all))

    g_forget = ref.grads[forget].sum(axis=0)
    for update, hess, scale_w in (
        (influence_update, hess_all, 1 / n),
        (ssse_update, hess_rem, 1 / (n - m)),
    ):
        new, update_info = update(model, params, x, y, forget, curvature=curvature)
        step = np.asarray(new["params"]["head"]["kernel"]).reshape(-1) - ref.theta
        expected_step = scale_w * numpy_inverse(hess, damping) @ g_forget
        np.testing.assert_allclose(
            step, expected_step, rtol=1e-8, atol=1e-10 * np.abs(expected_step).max()
        )
        assert update_info["condition_number"] == pytest.approx(
            numpy_condition_number(hess, damping)
        )
        for path, leaf in jax.tree_util.tree_flatten_with_path(new)[0]:
            if "head" not in str(path) or "bias" in str(path):  # only the kernel moves
                old = params
                for key in path:
                    old = old[key.key]
                np.testing.assert_array_equal(np.asarray(leaf), np.asarray(old, np.float64))
