"""Full-network curvature against ground truth: dense Hessian, dense solves, per-sample loops."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from mislabel.checks import NumericalError
from mislabel.curvature.full import (
    EIG_TOL,
    Eigenpairs,
    cg_report,
    cg_solve,
    flatten,
    full_eigenpairs,
    lowrank_info,
    make_full_hvp,
    make_weighted_loss,
    top_eigenpairs,
)
from mislabel.curvature.inverse import lowrank_influence_scores
from mislabel.curvature.last_layer import get_scoped, per_sample_grads, set_scoped
from mislabel.network.mlp import (
    MLP,
    init_params,
    make_model,
    per_sample_loss,
)
from mislabel.network.precision import float64, to_float64
from tests.conftest import blobs
from tests.helpers import mean_loss, param_count

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
        hess = np.asarray(jax.jit(jax.hessian(loss))(get_scoped(params, "full")))
        yield Problem(model, params, x, y, 0.5 * (hess + hess.T), jitted_hvp(model, params, x, y))


def test_flatten_round_trips_all_parameters(problem):
    params = problem.params
    theta, unravel = flatten(params)
    assert theta.shape == (param_count(params),) == (D * 3 + 3 + 3 * 2 + 2,)
    again = set_scoped(params, theta + 1.0, "full")
    for a, b in zip(
        jax.tree_util.tree_leaves(again), jax.tree_util.tree_leaves(params), strict=True
    ):
        np.testing.assert_allclose(a, b + 1.0)
    np.testing.assert_array_equal(get_scoped(unravel(theta), "full"), theta)


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
        logits = model.apply(set_scoped(params, theta, "full"), x[kept])
        return per_sample_loss(logits, y[kept]).mean()

    with float64():
        hess = np.asarray(jax.jit(jax.hessian(kept_mean))(get_scoped(params, "full")))
        v = np.random.default_rng(1).normal(size=hess.shape[0])
        got = jitted_hvp(model, params, x, y, w_N)(jnp.asarray(v))
    np.testing.assert_allclose(got, hess @ v, rtol=1e-10, atol=1e-12)


def test_per_sample_grads_match_a_loop(problem):
    model, params, x, y = problem.model, problem.params, problem.x, problem.y
    with float64():
        grads = np.asarray(per_sample_grads(model, params, x, y, "full"))

        def one(theta, x_1xD, y_1):
            return per_sample_loss(model.apply(set_scoped(params, theta, "full"), x_1xD), y_1)[0]

        theta = get_scoped(params, "full")
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

    with float64():
        _, info = solve(problem.hvp, jnp.asarray(b), damping, 1e-12, 1)
        report = cg_report(info)
    assert report["iterations"] == 1 and not report["converged"]
    assert report["relative_residual"] > 1e-3


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


def largest_magnitude(eigvals: np.ndarray, eigvecs: np.ndarray, k: int):
    order = np.argsort(-np.abs(eigvals), kind="stable")[:k]
    return eigvals[order], eigvecs[:, order]


def test_rank_p_gives_the_whole_dense_spectrum_and_inverse(problem):
    hess = problem.hess
    p = hess.shape[0]
    with float64():
        pairs = full_eigenpairs(
            problem.model, problem.params, problem.x, problem.y, jnp.full((N,), 1.0 / N), p
        )
    want_vals, want_vecs = np.linalg.eigh(hess)
    assert pairs.eigvals_K.shape == (p,) and pairs.eigvecs_PxK.shape == (p, p)
    assert pairs.matvecs == p  # K == P: H is formed from its P columns
    scale = np.abs(want_vals).max()
    np.testing.assert_allclose(np.sort(pairs.eigvals_K), want_vals, rtol=0, atol=1e-12 * scale)
    assert np.all(np.diff(np.abs(pairs.eigvals_K)) <= 0)  # largest magnitude first
    np.testing.assert_allclose(pairs.eigvecs_PxK.T @ pairs.eigvecs_PxK, np.eye(p), atol=1e-12)
    np.testing.assert_allclose(
        pairs.residuals_K,
        np.linalg.norm(hess @ pairs.eigvecs_PxK - pairs.eigvecs_PxK * pairs.eigvals_K, axis=0),
        rtol=0,
        atol=1e-13 * scale,
    )


def test_lowrank_influence_scores_project_onto_the_given_eigenvectors(problem):
    """K < P: ``g^T V diag(1/(lambda + d)) V^T g'``, checked with the dense eigenvectors."""
    vals, vecs = largest_magnitude(*np.linalg.eigh(problem.hess), 5)
    grads = np.random.default_rng(4).normal(size=(7, vecs.shape[0]))
    inverse = sum(np.outer(vecs[:, k], vecs[:, k]) / (vals[k] + 2.0) for k in range(5))
    with float64():
        got = lowrank_influence_scores(jnp.asarray(grads @ vecs), 1.0 / (jnp.asarray(vals) + 2.0))
    want_self = np.einsum("np,pq,nq->n", grads, inverse, grads)
    np.testing.assert_allclose(got["if_self"], want_self, rtol=1e-10)
    np.testing.assert_allclose(got["if_train"], grads @ inverse @ grads.mean(0), rtol=1e-10)


def test_eigsh_finds_the_largest_magnitude_pairs_of_a_small_hessian(problem):
    hess = problem.hess
    p = hess.shape[0]
    vals, vecs = largest_magnitude(*np.linalg.eigh(hess), 4)
    with float64():
        pairs = full_eigenpairs(
            problem.model, problem.params, problem.x, problem.y, jnp.full((N,), 1.0 / N), 4
        )
    assert pairs.eigvecs_PxK.shape == (p, 4) and 4 < pairs.matvecs < 10 * p
    np.testing.assert_allclose(pairs.eigvals_K, vals, rtol=1e-10)
    np.testing.assert_allclose(np.abs(np.sum(pairs.eigvecs_PxK * vecs, axis=0)), 1.0, atol=1e-8)


def test_eigsh_survives_repeated_eigenvalues():
    # Three distinct eigenvalues in 12 dimensions: one Krylov space holds only three.
    diag = np.repeat([3.0, -1.0, 0.0], 4)
    pairs = top_eigenpairs(lambda v: diag * v, lambda v: diag[:, None] * v, 12, 6)
    np.testing.assert_allclose(pairs.eigvals_K, [3, 3, 3, 3, -1, -1], atol=1e-12)
    np.testing.assert_allclose(pairs.eigvecs_PxK.T @ pairs.eigvecs_PxK, np.eye(6), atol=1e-12)
    np.testing.assert_allclose(pairs.eigvecs_PxK[8:], 0, atol=1e-12)  # right eigenspaces
    np.testing.assert_allclose(pairs.eigvecs_PxK[4:8, :4], 0, atol=1e-12)


def test_residuals_come_from_a_fresh_product_not_from_the_solver(problem):
    """matmat of a perturbed H: the reported residuals are those of the perturbed H."""
    hess = problem.hess
    p = hess.shape[0]
    bump = 1e-3 * np.random.default_rng(5).normal(size=(p, p))
    bump = bump + bump.T
    pairs = top_eigenpairs(lambda v: hess @ v, lambda v: (hess + bump) @ v, p, 3)
    want = np.linalg.norm(
        (hess + bump) @ pairs.eigvecs_PxK - pairs.eigvecs_PxK * pairs.eigvals_K, axis=0
    )
    assert want.min() > 1e-4  # the perturbation is visible ...
    np.testing.assert_allclose(pairs.residuals_K, want, rtol=1e-10)  # ... and reported


def test_lowrank_info_reports_the_pairs(problem):
    vals, vecs = largest_magnitude(*np.linalg.eigh(problem.hess), 6)
    residuals = np.array([1e-9, 3e-8, 2e-9, 0.0, 1e-10, 5e-9])
    info = lowrank_info(Eigenpairs(vals, vecs, residuals, 37), 1.0)
    assert info["rank"] == 6 and info["damping"] == 1.0 and info["eig_matvecs"] == 37
    assert info["max_eigenvalue"] == vals.max() and info["min_eigenvalue"] == vals.min()
    assert info["n_negative"] == int(np.sum(vals < 0))
    assert info["min_abs_shifted"] == pytest.approx(np.abs(vals + 1.0).min())
    assert info["eig_max_residual"] == 3e-8
    assert info["eig_max_relative_residual"] == pytest.approx(3e-8 / np.abs(vals).max())


def test_lowrank_info_refuses_a_damping_below_a_selected_negative_eigenvalue():
    vecs = np.eye(4)[:, :3]
    pairs = Eigenpairs(np.array([5.0, -2.5, 1.0]), vecs, np.zeros(3), 10)
    with pytest.raises(ValueError, match=r"most negative -2.5.*raise full_damping above 2.5"):
        lowrank_info(pairs, 2.0)
    with pytest.raises(ValueError, match="full_damping"):
        lowrank_info(pairs, 2.5)  # 1 / (lambda + damping) is infinite
    assert lowrank_info(pairs, 2.6)["min_abs_shifted"] == pytest.approx(0.1)
    # Only the selected pairs count: an unselected -4 of H would not reach the inverse.
    assert lowrank_info(pairs._replace(eigvals_K=np.array([5.0, 1.0, 0.5])), 0.1)["rank"] == 3


def test_lowrank_info_refuses_nan():
    pairs = Eigenpairs(np.array([1.0, np.nan]), np.eye(2), np.zeros(2), 4)
    with pytest.raises(NumericalError, match="NaN/Inf eigenvalues"):
        lowrank_info(pairs, 0.1)
    with pytest.raises(NumericalError, match="product 1 contains NaN"):
        top_eigenpairs(lambda v: v * np.nan, lambda v: v, 5, 2)


def test_top_eigenpairs_refuses_a_zero_rank():
    with pytest.raises(ValueError, match="rank >= 1"):
        top_eigenpairs(lambda v: v, lambda v: v, 5, 0)


# ---------------------------------------- a production ratio K << P, against a dense eigh

K_DIGITS, N_DIGITS = 20, 200


class Digits(NamedTuple):
    model: MLP
    params: dict
    x: jax.Array
    y: jax.Array
    hess: np.ndarray  # (P, P), P = 4,810
    top_vals: np.ndarray  # the K largest-magnitude eigenpairs of hess, by dense eigh
    top_vecs: np.ndarray
    pairs: Eigenpairs  # from full_eigenpairs at the default tolerance


@pytest.fixture(scope="module")
def digits():
    """64 -> [64] -> 10 MLP (P = 4,810) trained 3 epochs on sklearn's digits."""
    import scipy.linalg
    from sklearn.datasets import load_digits
    from threadpoolctl import threadpool_limits

    from mislabel.network.train import train
    from mislabel.settings import TrainConfig

    x_all, y_all = load_digits(return_X_y=True)
    x, y = (x_all[:N_DIGITS] / 16).astype(np.float32), y_all[:N_DIGITS].astype(np.int32)
    model = make_model([64], 10)
    state, _ = train(model, x, y, 0, TrainConfig(lr=0.05, batch_size=32, epochs=3))
    with float64():
        params = to_float64(state.params)
        x, y = jnp.asarray(x, jnp.float64), jnp.asarray(y)
        theta, unravel = ravel_pytree(params)

        def mean_loss_of(theta_P):  # written out here, not the package's weighted loss
            return jnp.mean(per_sample_loss(model.apply(unravel(theta_P), x), y))

        hess = np.asarray(jax.jit(jax.hessian(mean_loss_of))(theta))
        pairs = full_eigenpairs(model, params, x, y, jnp.full((N_DIGITS,), 1 / N_DIGITS), K_DIGITS)
    hess = 0.5 * (hess + hess.T)
    p = hess.shape[0]
    with threadpool_limits(limits=1, user_api="blas"):  # much faster on a busy machine
        ends = [
            scipy.linalg.eigh(hess, subset_by_index=idx, driver="evr")
            for idx in ([0, K_DIGITS - 1], [p - K_DIGITS, p - 1])
        ]
    vals, vecs = largest_magnitude(
        np.concatenate([e[0] for e in ends]), np.concatenate([e[1] for e in ends], 1), K_DIGITS
    )
    return Digits(model, params, x, y, hess, vals, vecs, pairs)


@pytest.mark.slow
def test_eigsh_at_k_much_below_p_matches_a_dense_eigh(digits):
    pairs, vals = digits.pairs, digits.top_vals
    assert digits.hess.shape == (4810, 4810) and pairs.eigvecs_PxK.shape == (4810, K_DIGITS)
    # The selection is not trivial: it mixes signs, and the Hessian is indefinite beyond it.
    assert np.sum(vals < 0) >= 1 and np.sum(vals > 0) >= K_DIGITS // 2
    np.testing.assert_allclose(pairs.eigvals_K, vals, rtol=1e-9)
    overlap = np.abs(np.sum(pairs.eigvecs_PxK * digits.top_vecs, axis=0))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-8)
    np.testing.assert_allclose(
        pairs.eigvecs_PxK.T @ pairs.eigvecs_PxK, np.eye(K_DIGITS), atol=1e-12
    )
    assert K_DIGITS < pairs.matvecs < 20 * K_DIGITS


@pytest.mark.slow
def test_reported_residuals_are_those_of_the_dense_hessian(digits):
    pairs = digits.pairs
    vecs = pairs.eigvecs_PxK
    dense = np.linalg.norm(digits.hess @ vecs - vecs * pairs.eigvals_K, axis=0)
    np.testing.assert_allclose(pairs.residuals_K, dense, rtol=1e-3, atol=1e-14)
    assert np.all(dense <= 2 * EIG_TOL * np.abs(pairs.eigvals_K))  # ARPACK's stopping rule
    info = lowrank_info(pairs, 1.0)
    assert info["eig_max_residual"] == pytest.approx(dense.max(), rel=1e-3)
    assert info["eig_max_relative_residual"] == pytest.approx(
        dense.max() / np.abs(digits.top_vals).max(), rel=1e-3
    )
    assert info["eig_matvecs"] == pairs.matvecs


@pytest.mark.slow
def test_damping_below_the_most_negative_selected_eigenvalue_is_refused(digits):
    most_negative = digits.top_vals.min()
    assert most_negative < 0
    with pytest.raises(ValueError, match=f"raise full_damping above {-most_negative:.6g}"):
        lowrank_info(digits.pairs, 0.9 * -most_negative)
    assert lowrank_info(digits.pairs, 1.1 * -most_negative)["n_negative"] >= 1
