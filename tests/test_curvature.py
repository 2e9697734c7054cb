"""Curvature against ground truth: finite differences, dense solves, per-sample loops."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mislabel.checks import IndefiniteHessianError, NumericalError
from mislabel.curvature.inverse import invert_dense
from mislabel.curvature.last_layer import (
    get_scoped,
    per_sample_grads,
    set_scoped,
    weighted_hessian,
)
from mislabel.network.mlp import init_params, make_model
from mislabel.network.precision import float64, to_float64
from tests.conftest import blobs
from tests.helpers import dense_hessian, make_mean_loss


@pytest.fixture
def tiny_mlp():
    x, y = blobs(40, 3, seed=1)
    model = make_model([4], 2)
    with float64():
        params = to_float64(init_params(model, jax.random.PRNGKey(0), 3))
        yield model, params, jnp.asarray(x), jnp.asarray(y)


def loss_at(model, params, theta, x, y):
    return float(make_mean_loss(model, params, "last_layer")(jnp.asarray(theta), x, y))


def test_scope_is_the_last_dense_kernel(tiny_mlp):
    model, params, _, _ = tiny_mlp
    theta = get_scoped(params, "last_layer")
    assert theta.shape == (4 * 2,)
    np.testing.assert_array_equal(theta, params["params"]["head"]["kernel"].reshape(-1))
    again = set_scoped(params, theta + 1.0, "last_layer")
    np.testing.assert_allclose(again["params"]["head"]["kernel"].reshape(-1), theta + 1.0)
    np.testing.assert_array_equal(
        again["params"]["layers_0"]["kernel"], params["params"]["layers_0"]["kernel"]
    )


def test_unknown_scope_is_refused(tiny_mlp):
    _, params, _, _ = tiny_mlp
    with pytest.raises(ValueError, match="allowed: last_layer, full"):
        get_scoped(params, "everything")


def test_hessian_matches_finite_differences_of_the_loss(tiny_mlp):
    model, params, x, y = tiny_mlp
    hess = np.asarray(dense_hessian(model, params, x, y, "last_layer"))
    theta = np.asarray(get_scoped(params, "last_layer"))
    eps = 1e-4
    p = theta.size
    fd = np.zeros((p, p))
    for i in range(p):
        for j in range(p):

            def shifted(si, sj, i=i, j=j):
                t = theta.copy()
                t[i] += si * eps
                t[j] += sj * eps
                return loss_at(model, params, t, x, y)

            fd[i, j] = (shifted(1, 1) - shifted(1, -1) - shifted(-1, 1) + shifted(-1, -1)) / (
                4 * eps**2
            )
    np.testing.assert_allclose(hess, fd, atol=1e-6)
    # The two-class softmax head is singular: adding one vector to both class columns
    # changes nothing, so the rank is at most half the parameters.
    assert np.linalg.matrix_rank(hess, tol=1e-10 * np.abs(hess).max()) <= p // 2


def test_per_sample_grads_match_a_loop(tiny_mlp):
    model, params, x, y = tiny_mlp
    grads = per_sample_grads(model, params, x, y, "last_layer")
    loss = make_mean_loss(model, params, "last_layer")
    theta = get_scoped(params, "last_layer")
    for i in (0, 7, 39):
        np.testing.assert_allclose(
            grads[i], jax.grad(loss)(theta, x[i : i + 1], y[i : i + 1]), atol=1e-12
        )
    np.testing.assert_allclose(grads.mean(0), jax.grad(loss)(theta, x, y), atol=1e-12)


def test_pinv_solves_on_the_range_and_matches_numpy(tiny_mlp):
    model, params, x, y = tiny_mlp
    hess = np.asarray(dense_hessian(model, params, x, y, "last_layer"))
    inverse = invert_dense(hess)
    assert inverse.info["method"] == "pinv"
    assert inverse.info["rank"] == np.linalg.matrix_rank(hess, tol=1e-10 * np.abs(hess).max())
    b = hess @ np.arange(1.0, hess.shape[0] + 1)  # in the range of H
    sol = np.asarray(inverse.solve(jnp.asarray(b))[0])
    np.testing.assert_allclose(hess @ sol, b, atol=1e-10)
    np.testing.assert_allclose(
        sol, np.linalg.pinv(hess, rcond=1e-10, hermitian=True) @ b, atol=1e-8
    )
    batch = np.stack([b, 2 * b], axis=1)
    np.testing.assert_allclose(
        np.asarray(inverse.solve(jnp.asarray(batch))[0])[:, 1], 2 * sol, atol=1e-8
    )


def test_damped_inverse_solves_the_damped_system():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 3))
    hess = a @ a.T  # rank 3
    with float64():
        inverse = invert_dense(jnp.asarray(hess), damping=0.1)
        b = rng.normal(size=6)
        sol = np.asarray(inverse.solve(jnp.asarray(b))[0])
    np.testing.assert_allclose((hess + 0.1 * np.eye(6)) @ sol, b, atol=1e-10)
    assert inverse.info["method"] == "damped" and inverse.info["rank"] == 6


def test_non_finite_hessian_is_reported():
    with pytest.raises(NumericalError, match="NaN/Inf"):
        invert_dense(jnp.array([[1.0, jnp.nan], [jnp.nan, 1.0]]))


def test_negative_damping_is_refused():
    with pytest.raises(ValueError, match="damping"):
        invert_dense(jnp.eye(2), damping=-1.0)


def test_weighted_hessian_over_kept_samples_equals_the_subset_hessian(tiny_mlp):
    """SSSE's H_rem at fixed shapes: weights keep/(n-m) give the Hessian of the subset."""
    model, params, x, y = tiny_mlp
    keep = np.arange(x.shape[0]) % 4 != 0
    weights = jnp.asarray(keep / keep.sum())
    masked = weighted_hessian(model, params, x, y, weights, "last_layer")
    subset = dense_hessian(model, params, x[keep], y[keep], "last_layer")
    np.testing.assert_allclose(masked, subset, atol=1e-13)


def range_condition_number(hess):
    """cond of H restricted to its range (numpy's SVD, pinv's cut-off 1e-10 * max)."""
    u, s, _ = np.linalg.svd(hess)
    basis = u[:, s > 1e-10 * s[0]]
    return np.linalg.cond(basis.T @ hess @ basis)


def test_condition_number_is_that_of_the_matrix_inverted():
    """Damped: cond(H + d I) over all eigenvalues, null space and negative ones included;
    pseudo-inverse: cond of H on the kept eigenvectors; both against numpy.linalg.cond."""
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    hess = (q * np.array([-0.05, 0.0, 0.0, 0.2, 1.0, 3.0])) @ q.T
    hess = 0.5 * (hess + hess.T)
    with float64():
        damped = invert_dense(jnp.asarray(hess), damping=0.1).info
        pinv = invert_dense(jnp.asarray(hess)).info
    assert damped["condition_number"] == pytest.approx(np.linalg.cond(hess + 0.1 * np.eye(6)))
    assert damped["condition_number"] == pytest.approx(3.1 / 0.05)
    assert pinv["rank"] == 4 and pinv["n_negative"] == 1
    assert pinv["condition_number"] == pytest.approx(range_condition_number(hess))
    assert pinv["condition_number"] == pytest.approx(3.0 / 0.05)
    for too_small in (0.03, 0.0499):  # min lambda + d < 0: not positive definite
        with float64(), pytest.raises(IndefiniteHessianError, match="raise damping above 0.05"):
            invert_dense(jnp.asarray(hess), damping=too_small)


def test_condition_number_of_a_network_hessian_matches_numpy(tiny_mlp):
    model, params, x, y = tiny_mlp
    hess = np.asarray(dense_hessian(model, params, x, y, "last_layer"))
    for damping in (1e-3, 0.5):
        info = invert_dense(jnp.asarray(hess), damping=damping).info
        expected = np.linalg.cond(hess + damping * np.eye(len(hess)))
        assert info["condition_number"] == pytest.approx(expected, rel=1e-8)
    info = invert_dense(jnp.asarray(hess)).info
    assert info["condition_number"] == pytest.approx(range_condition_number(hess), rel=1e-6)
