"""Leave-one-out validation of influence on a small MLP: the machinery and its ground truth."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from mislabel.loo import (
    LooProblem,
    actual_changes,
    choose_removals,
    correlations,
    loo_problem,
    predicted_changes,
    validate_influence,
)
from mislabel.network.mlp import per_sample_loss
from mislabel.network.precision import float64
from mislabel.noise import inject_noise
from mislabel.settings import CurvatureSettings, TrainConfig
from tests.conftest import blobs


def test_removals_are_half_mislabeled_distinct_and_seeded():
    flipped = np.zeros(50, bool)
    flipped[[3, 7, 9]] = True
    idx = choose_removals(flipped, 8, seed=1)
    assert len(set(idx.tolist())) == 8 and flipped[idx].sum() == 3  # only 3 exist
    np.testing.assert_array_equal(idx, choose_removals(flipped, 8, seed=1))
    with pytest.raises(ValueError, match="cannot remove"):
        choose_removals(flipped, 51, seed=0)


def test_correlations_of_known_data():
    pred = np.array([1.0, 2.0, 3.0, 4.0])
    out = correlations(pred, 2 * pred)
    assert out["pearson"] == pytest.approx(1) and out["spearman"] == pytest.approx(1)
    assert out["slope"] == pytest.approx(2)


# ------------------------------------------------- every scope against a dense Hessian

DAMPING, RANK = 0.5, 10
CURVATURE = CurvatureSettings(full_damping=DAMPING, lanczos_rank=RANK, cg_tol=1e-12)
SMALL = {  # an 80-sample, [4]-hidden problem (P = 38): seconds, and a dense Hessian is exact
    "samples": 8,
    "seed": 0,
    "train_config": TrainConfig(lr=0.05, batch_size=8, epochs=10),
    "n_train": 80,
    "hidden": (4,),
}
STEPS = (300, 150)


class Small(NamedTuple):
    problem: LooProblem
    actual: np.ndarray  # leave-one-out retraining, (R,)
    truth: dict  # {scope: (1/n) g^T (H_scope + damping I)^-1 g from the dense Hessian}, (R,)
    rows: list
    facts: dict


def dense_predictions(problem: LooProblem, damping: float, rank: int) -> dict:
    """Each scope's prediction from the dense Hessian of a loss written out here (NumPy)."""
    model, n = problem.model, len(problem.y_N)
    with float64():
        theta, unravel = ravel_pytree(problem.params)
        x, y = jnp.asarray(problem.x_NxD, jnp.float64), jnp.asarray(problem.y_N)

        def mean_loss(t):
            return jnp.mean(per_sample_loss(model.apply(unravel(t), x), y))

        def one_loss(t, x_D, y_1):
            return per_sample_loss(model.apply(unravel(t), x_D[None]), y_1[None])[0]

        hess = np.asarray(jax.hessian(mean_loss)(theta))
        rem = problem.removed_R
        grads = np.asarray(jax.vmap(jax.grad(one_loss), (None, 0, 0))(theta, x[rem], y[rem]))
        # the last layer scope is the head's kernel: find its entries in the flat vector
        head = jax.tree_util.tree_map_with_path(
            lambda path, a: np.full(a.shape, "'head']['kernel']" in jax.tree_util.keystr(path)),
            problem.params,
        )
        head = np.asarray(ravel_pytree(head)[0], bool)
    p = hess.shape[0]
    assert head.sum() == 4 * 2

    def quad(h, g):
        return np.einsum("rp,pr->r", g, np.linalg.solve(h + damping * np.eye(len(h)), g.T)) / n

    eigvals, eigvecs = np.linalg.eigh(hess)
    top = np.argsort(-np.abs(eigvals))[:rank]
    mags = np.sort(np.abs(eigvals))[::-1]
    assert mags[rank - 1] > 1.05 * mags[rank]  # the top-k eigenspace is well defined
    lowrank = np.sum((grads @ eigvecs[:, top]) ** 2 / (eigvals[top] + damping), axis=1) / n
    return {
        "full": quad(hess, grads),
        "last_layer": quad(hess[np.ix_(head, head)], grads[:, head]),
        "last_layer_pinv": np.einsum(
            "rp,pr->r", grads[:, head], np.linalg.pinv(hess[np.ix_(head, head)]) @ grads[:, head].T
        )
        / n,
        "full_lowrank": lowrank,
        "p": p,
    }


@pytest.fixture(scope="module")
def small():
    x, y_clean = blobs(80, 6, seed=0, sep=2.0)
    y, flipped = inject_noise(y_clean, 2, 0.1, "exact", seed=0)
    x = (x - x.min()) / (x.max() - x.min())
    rows, facts = validate_influence(x, y, flipped, 2, curvature=CURVATURE, steps=STEPS, **SMALL)
    # The same problem again, piece by piece (deterministic), for the ground truth.
    problem = loo_problem(x, y, flipped, 2, damping=DAMPING, steps=STEPS[0], **SMALL)
    actual, _ = actual_changes(problem, STEPS[1])
    return Small(problem, actual, dense_predictions(problem, DAMPING, RANK), rows, facts)


def test_every_scope_predicts_what_the_dense_damped_hessian_says(small):
    predicted, facts = predicted_changes(small.problem, CURVATURE)
    assert small.truth["p"] == 38 and RANK < small.truth["p"]
    for scope in ("last_layer", "full", "full_lowrank"):
        np.testing.assert_allclose(predicted[scope], small.truth[scope], rtol=1e-8, err_msg=scope)
    assert facts["cg_converged"] and facts["eig_max_relative_residual"] < 1e-8
    # The scopes really differ, so a swapped scope cannot pass by accident.
    assert np.min(np.abs(small.truth["last_layer"] / small.truth["full"] - 1)) > 0.05
    assert np.max(np.abs(small.truth["full_lowrank"] / small.truth["full"] - 1)) > 1e-2


def test_restricted_scopes_bound_the_exact_prediction_from_below(small):
    """With A = H + damping I positive definite, g^T A^-1 g = max_v 2 g.v - v^T A v, so
    restricting v (to the head, or to k eigenvectors) can only lower it. The pseudo-inverse
    of the undamped head Hessian (the old last-layer row) breaks the bound."""
    predicted, _ = predicted_changes(small.problem, CURVATURE)
    assert np.all(predicted["last_layer"] <= small.truth["full"] * (1 + 1e-10))
    assert np.all(predicted["full_lowrank"] <= small.truth["full"] * (1 + 1e-10))
    assert np.any(small.truth["last_layer_pinv"] > 1.5 * small.truth["full"])


def test_every_row_correlates_the_dense_truth_with_actual_retraining(small):
    by_scope = {row["scope"]: row for row in small.rows}
    assert set(by_scope) == {"last_layer", "full", "full_lowrank"}
    for scope, row in by_scope.items():
        want = correlations(small.truth[scope], small.actual)
        for key in ("pearson", "spearman", "slope"):
            assert row[key] == pytest.approx(want[key], rel=1e-6), (scope, key)
        assert row["n_runs"] == 8 and row["n"] == 80
        assert row["mean_abs_actual"] == pytest.approx(np.mean(np.abs(small.actual)), rel=1e-9)
    lowrank = by_scope["full_lowrank"]
    assert lowrank["eig_max_relative_residual"] < 1e-8 and lowrank["eig_matvecs"] > RANK
    assert small.facts["cg_converged"] and not small.facts["cg_negative_curvature"]


def test_the_exact_prediction_tracks_actual_leave_one_out_retraining(small):
    """First order in 1/n: the CG (exact) prediction is close to the retrained change."""
    truth, actual = small.truth["full"], small.actual
    assert np.all(actual > 0)  # removing a sample raises its own loss
    fit = correlations(truth, actual)
    assert fit["pearson"] > 0.98 and 0.8 < fit["slope"] < 1.05, fit
