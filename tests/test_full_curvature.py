"""Full-network curvature against ground truth: dense Hessian, dense solves, per-sample loops."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mislabel.curvature import NumericalError
from mislabel.full_curvature import (
    LowRankInverse,
    cg_report,
    cg_solve,
    check_converged,
    flatten,
    full_per_sample_grads,
    get_flat,
    lanczos,
    low_rank_solve,
    lowrank_info,
    make_full_hvp,
    make_weighted_loss,
    set_flat,
)
from mislabel.model import MLP, init_params, make_model, mean_loss, param_count, per_sample_loss
from mislabel.precision import float64, to_float64
from tests.conftest import blobs

N, D = 40, 5


class Problem(NamedTuple):
    model: MLP
    params: dict
    x: jax.Array
    y: jax.Array
    hess: np.ndarray  # dense mean-loss Hessian over all parameters, (P, P)
    hvp: Callable  # jitted mean-loss HVP, shared so that the jitted solvers compile once


def jitted_hvp(model, params, x, y, w_N=None):
    w_N = jnp.full((N,), 1.0 / N) if w_N is None else w_N
    return jax.jit(make_full_hvp(model, params, x, y, w_N))


solve = jax.jit(cg_solve, static_argnums=(0, 4))
eigs = jax.jit(lanczos, static_argnums=(0, 1, 2), static_argnames=("n_iter",))


@pytest.fixture(scope="module")
def problem():
    """A [3]-hidden MLP after 100 gradient steps, its data, dense Hessian and HVP (float64)."""
    x, y = blobs(N, D, seed=2)
    model = make_model([3], 2)
    with float64():
        params = to_float64(init_params(model, jax.random.PRNGKey(1), D))
        x, y = jnp.asarray(x), jnp.asarray(y)

        @jax.jit
        def step(p):
            g = jax.grad(mean_loss, argnums=1)(model, p, x, y)
            return jax.tree_util.tree_map(lambda a, b: a - 0.5 * b, p, g)

        for _ in range(100):
            params = step(params)
        loss = make_weighted_loss(model, params, x, y, jnp.full((N,), 1.0 / N))
        hess = np.asarray(jax.jit(jax.hessian(loss))(get_flat(params)))
        yield Problem(model, params, x, y, 0.5 * (hess + hess.T), jitted_hvp(model, params, x, y))


def test_flatten_round_trips_all_parameters(problem):
    params = problem.params
    theta, unravel = flatten(params)
    assert theta.shape == (param_count(params),) == (D * 3 + 3 + 3 * 2 + 2,)
    again = set_flat(params, theta + 1.0)
    for a, b in zip(
        jax.tree_util.tree_leaves(again), jax.tree_util.tree_leaves(params), strict=True
    ):
        np.testing.assert_allclose(a, b + 1.0)
    np.testing.assert_array_equal(get_flat(unravel(theta)), theta)


def test_hvp_matches_dense_hessian(problem):
    hess = problem.hess
    v = np.random.default_rng(0).normal(size=hess.shape[0])
    with float64():
        got = problem.hvp(jnp.asarray(v))
    np.testing.assert_allclose(got, hess @ v, rtol=1e-10, atol=1e-12)
    # The Hessian of a trained ReLU net is neither trivial nor (here) positive definite.
    eigvals = np.linalg.eigvalsh(hess)
    assert eigvals.max() > 1e-2 and eigvals.min() < 0


def test_keep_weighted_hvp_is_the_hessian_of_the_kept_mean(problem):
    model, params, x, y = problem.model, problem.params, problem.x, problem.y
    keep = np.ones(N)
    keep[[0, 3, 7, 11]] = 0.0
    w_N = jnp.asarray(keep / keep.sum())
    kept = keep.astype(bool)

    def kept_mean(theta):
        logits = model.apply(set_flat(params, theta), x[kept])
        return per_sample_loss(logits, y[kept]).mean()

    with float64():
        hess = np.asarray(jax.jit(jax.hessian(kept_mean))(get_flat(params)))
        v = np.random.default_rng(1).normal(size=hess.shape[0])
        got = jitted_hvp(model, params, x, y, w_N)(jnp.asarray(v))
    np.testing.assert_allclose(got, hess @ v, rtol=1e-10, atol=1e-12)


def test_per_sample_grads_match_a_loop(problem):
    model, params, x, y = problem.model, problem.params, problem.x, problem.y
    with float64():
        grads = np.asarray(jax.jit(full_per_sample_grads, static_argnums=0)(model, params, x, y))

        def one(theta, x_1xD, y_1):
            return per_sample_loss(model.apply(set_flat(params, theta), x_1xD), y_1)[0]

        theta = get_flat(params)
        one_grad = jax.jit(jax.grad(one))
        loop = np.stack([np.asarray(one_grad(theta, x[i : i + 1], y[i : i + 1])) for i in range(5)])
        # Per-sample gradients average to the mean-loss gradient.
        mean_grad = jax.jit(
            jax.grad(make_weighted_loss(model, params, x, y, jnp.full((N,), 1 / N)))
        )(theta)
    assert grads.shape == (N, theta.size)
    np.testing.assert_allclose(grads[:5], loop, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grads.mean(axis=0), mean_grad, rtol=1e-10, atol=1e-14)


def test_cg_matches_a_dense_damped_solve(problem):
    hess = problem.hess
    p = hess.shape[0]
    damping = 0.1 - min(np.linalg.eigvalsh(hess).min(), 0.0)
    b = np.random.default_rng(2).normal(size=p)
    with float64():
        x, info = solve(problem.hvp, jnp.asarray(b), damping, 1e-12, 200)
        report = cg_report(info)
    want = np.linalg.solve(hess + damping * np.eye(p), b)
    np.testing.assert_allclose(x, want, rtol=1e-8, atol=1e-10 * np.abs(want).max())
    assert report["converged"] and not report["negative_curvature"]
    assert 0 < report["iterations"] <= p
    assert report["relative_residual"] <= 1e-12
    assert check_converged(report, "newton step") is None

    with float64():
        _, info = solve(problem.hvp, jnp.asarray(b), damping, 1e-12, 1)
        report = cg_report(info)
    assert report["iterations"] == 1 and not report["converged"]
    assert report["relative_residual"] > 1e-3
    warning = check_converged(report, "newton step")
    assert warning.startswith("newton step: conjugate gradients did not converge in 1 ")


def test_cg_flags_negative_curvature_and_returns_the_last_iterate(problem):
    hess = problem.hess
    eigvals, eigvecs = np.linalg.eigh(hess)
    assert eigvals[0] < 0
    # b along the most negative direction: the first search direction has p^T H p < 0.
    b = eigvecs[:, 0] + 1e-3 * eigvecs[:, -1]
    with float64():
        x, info = solve(problem.hvp, jnp.asarray(b), 0.0, 1e-10, 200)
        report = cg_report(info)
    assert report["negative_curvature"] and not report["converged"]
    assert report["iterations"] == 0
    np.testing.assert_array_equal(x, np.zeros_like(b))
    assert "negative curvature" in check_converged(report, "influence")


def test_cg_on_a_zero_right_hand_side_is_zero(problem):
    hess = problem.hess
    with float64():
        x, info = solve(problem.hvp, jnp.zeros(hess.shape[0]), 1.0, 1e-8, 200)
    report = cg_report(info)
    assert report == {
        "iterations": 0,
        "relative_residual": 0.0,
        "converged": True,
        "negative_curvature": False,
    }
    assert not np.any(x)


def test_full_rank_lanczos_reproduces_the_dense_spectrum_and_inverse(problem):
    hess = problem.hess
    p = hess.shape[0]
    with float64():
        eigvals, eigvecs = eigs(problem.hvp, p, p, jax.random.PRNGKey(0))
        assert eigvals.shape == (p,) and eigvecs.shape == (p, p)
        assert np.all(np.isfinite(eigvals)) and np.all(np.isfinite(eigvecs))
        scale = np.abs(hess).max()
        np.testing.assert_allclose(
            np.sort(eigvals), np.linalg.eigvalsh(hess), rtol=0, atol=1e-10 * scale
        )
        assert np.all(np.diff(np.abs(eigvals)) <= 0)  # largest magnitude first
        np.testing.assert_allclose(eigvecs.T @ eigvecs, np.eye(p), atol=1e-10)

        damping = 0.1 - min(np.linalg.eigvalsh(hess).min(), 0.0)
        inv = LowRankInverse(eigvals, eigvecs, damping)
        b = np.random.default_rng(3).normal(size=(p, 3))
        want = np.linalg.solve(hess + damping * np.eye(p), b)
        np.testing.assert_allclose(low_rank_solve(inv, jnp.asarray(b)), want, rtol=1e-8)
        np.testing.assert_allclose(low_rank_solve(inv, jnp.asarray(b[:, 0])), want[:, 0], rtol=1e-8)


def test_lanczos_survives_an_exhausted_krylov_space():
    # Three distinct eigenvalues in 12 dimensions: the Krylov space dies after 3 steps.
    diag = jnp.asarray(np.repeat([3.0, -1.0, 0.0], 4))
    with float64():
        eigvals, eigvecs = eigs(lambda v: diag * v, 12, 12, jax.random.PRNGKey(1))
    assert np.all(np.isfinite(eigvals)) and np.all(np.isfinite(eigvecs))
    np.testing.assert_allclose(np.sort(eigvals), np.sort(np.asarray(diag)), atol=1e-12)
    np.testing.assert_allclose(eigvecs.T @ eigvecs, np.eye(12), atol=1e-12)


def test_truncated_lanczos_finds_the_top_eigenvalues(problem):
    hess = problem.hess
    p = hess.shape[0]
    dense = np.linalg.eigvalsh(hess)
    top = dense[np.argsort(-np.abs(dense))]
    k = 4
    with float64():
        eigvals, eigvecs = eigs(problem.hvp, p, k, jax.random.PRNGKey(2), n_iter=16)
    assert eigvals.shape == (k,) and eigvecs.shape == (p, k)
    np.testing.assert_allclose(eigvals, top[:k], rtol=1e-6)
    # Ritz vectors are eigenvectors: H V = V diag(lambda).
    np.testing.assert_allclose(hess @ eigvecs, eigvecs * eigvals, atol=1e-5 * np.abs(top[0]))
    info = lowrank_info(eigvals, 0.01)
    assert info["rank"] == k and info["damping"] == 0.01
    assert info["max_eigenvalue"] == pytest.approx(top[:k].max())
    assert info["n_negative"] == int(np.sum(top[:k] < 0))


def test_lowrank_info_refuses_nan():
    with pytest.raises(NumericalError, match="NaN/Inf Ritz"):
        lowrank_info(np.array([1.0, np.nan]), 0.1)


def test_lanczos_refuses_a_zero_rank():
    with pytest.raises(ValueError, match="must be positive"):
        lanczos(lambda v: v, 5, 0, jax.random.PRNGKey(0))
