"""Influence scores of a softmax head from its structure (`mislabel.curvature.head`), checked
against dense truth: per-sample gradients by `jax.grad`, the Hessian by `jax.hessian`, the
(pseudo-)inverse by NumPy; EK-FAC's eigenvalues against the dense Hessian in its basis, and its
scores against the exact ones on a head trained on real features with planted noise."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mislabel.checks import MemoryBudgetError
from mislabel.curvature.head import (
    _extreme_eigenvalues,
    ekfac_eigenbasis,
    head_influence_scores,
    need_bytes,
    plan_curvature,
)
from mislabel.network.precision import float64
from mislabel.noise import inject_noise


def small_head(n=60, d=5, c=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = rng.integers(0, c, n)
    W = rng.normal(size=(d, c)) * 0.5
    b = rng.normal(size=c) * 0.3
    return W, b, x, y


def dense_truth(W, b, x, y, bias, damping=0.0, rtol=1e-10):
    """The three scores from per-sample `jax.grad`, `jax.hessian` and a dense (pseudo-)inverse."""
    with float64():
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        b_fixed = jnp.asarray(b)

        def unpack(theta):
            if bias:
                Wb = theta.reshape(W.shape[0] + 1, W.shape[1])
                return Wb[:-1], Wb[-1]
            return theta.reshape(W.shape), b_fixed

        def loss_i(theta, xi, yi):
            Wt, bt = unpack(theta)
            z = xi @ Wt + bt
            return jax.nn.logsumexp(z) - z[yi]

        theta = jnp.asarray(np.vstack([W, b[None]]).reshape(-1) if bias else W.reshape(-1))
        grads = np.asarray(jax.vmap(jax.grad(loss_i), (None, 0, 0))(theta, xj, yj))
        hess = np.asarray(
            jax.hessian(lambda t: jnp.mean(jax.vmap(loss_i, (None, 0, 0))(t, xj, yj)))(theta)
        )
    vals, vecs = np.linalg.eigh(hess)
    if damping > 0:
        inv = vecs @ np.diag(1.0 / (vals + damping)) @ vecs.T
    else:
        keep = vals > rtol * np.abs(vals).max()
        inv = vecs[:, keep] @ np.diag(1.0 / vals[keep]) @ vecs[:, keep].T
    n = len(y)
    g_mean = grads.mean(axis=0)
    self_ = np.einsum("np,pq,nq->n", grads, inv, grads)
    train = grads @ inv @ g_mean
    minus = ((n * g_mean[None] - grads) / (n - 1)) @ inv
    minus = np.einsum("np,np->n", minus, grads)
    return {"if_self": self_, "if_train": train, "if_train_minus_z": minus}, hess


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("damping", [0.0, 0.05])
def test_exact_scores_equal_dense_truth(bias, damping):
    W, b, x, y = small_head()
    want, _ = dense_truth(W, b, x, y, bias, damping)
    got, info = head_influence_scores(W, b, x, y, bias=bias, kind="exact", damping=damping, chunk=7)
    assert info["curvature"] == "exact"
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-8, atol=1e-10)


def test_the_pseudo_inverse_drops_the_class_shift_null_space():
    W, b, x, y = small_head(d=5, c=4)
    _, info = head_influence_scores(W, b, x, y, kind="exact")
    # softmax is unchanged by adding one vector to every class column: D+1 null directions
    assert info["rank"] == (5 + 1) * (4 - 1)


@pytest.mark.parametrize("damping", [0.0, 0.05])
def test_exact_solves_by_cholesky_when_the_inverse_is_the_one_asked_for(damping):
    W, b, x, y = small_head(n=80)
    want, _ = dense_truth(W, b, x, y, True, damping)
    got, info = head_influence_scores(W, b, x, y, kind="exact", damping=damping)
    assert info["solve"] == "cholesky"
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    "case",
    ["a repeated feature makes H singular beyond the class shift", "a cut near the spectrum"],
)
def test_exact_falls_back_to_the_eigendecomposition(case):
    """Without damping, Cholesky is trusted only far from the pseudo-inverse's cut; near it
    (or on a singular H) the eigendecomposition drops what the pseudo-inverse drops."""
    W, b, x, y = small_head(n=80)
    rtol = 1e-10
    if case.startswith("a repeated"):
        x = np.hstack([x, x[:, :1]])
        W = np.vstack([W, W[:1]])
    else:
        _, hess = dense_truth(W, b, x, y, True)
        vals = np.linalg.eigvalsh(hess)
        kept = vals[vals > 1e-12 * vals.max()]
        rtol = 1.5 * kept.min() / kept.max()  # drops the smallest nonzero eigenvalue
    want, _ = dense_truth(W, b, x, y, True, rtol=rtol)
    got, info = head_influence_scores(W, b, x, y, kind="exact", pinv_rtol=rtol)
    assert info["solve"] == "eigh"
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("p", [1, 3, 30, 300])
def test_extreme_eigenvalues_from_a_cholesky_factor_equal_numpys(p):
    rng = np.random.default_rng(p)
    a = rng.normal(size=(p, p))
    hess = a @ a.T / p + 1e-3 * np.eye(p)
    upper = np.linalg.cholesky(hess).T.copy(order="F")
    largest, smallest = _extreme_eigenvalues(upper)
    vals = np.linalg.eigvalsh(hess)
    assert largest == pytest.approx(vals[-1], rel=1e-6) and largest <= vals[-1] * (1 + 1e-12)
    assert smallest == pytest.approx(vals[0], rel=1e-6) and smallest >= vals[0] * (1 - 1e-12)


def test_scores_do_not_depend_on_the_chunk():
    W, b, x, y = small_head(n=101)
    for kind in ("exact", "ekfac"):
        one, _ = head_influence_scores(W, b, x, y, kind=kind, chunk=1000)
        many, _ = head_influence_scores(W, b, x, y, kind=kind, chunk=16)
        for name in one:
            np.testing.assert_allclose(many[name], one[name], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_ekfac_eigenvalues_are_the_hessian_in_the_kronecker_eigenbasis(bias):
    W, b, x, y = small_head()
    _, hess = dense_truth(W, b, x, y, bias)
    QA, QS, lam = ekfac_eigenbasis(W, b, x, y, bias=bias)
    basis = np.kron(QA, QS)  # index r C + c, as the stacked head is flattened
    np.testing.assert_allclose(np.diag(basis.T @ hess @ basis), lam.reshape(-1), atol=1e-12)
    np.testing.assert_allclose(basis.T @ basis, np.eye(basis.shape[0]), atol=1e-10)


def test_ekfac_is_exact_for_two_classes_and_one_feature_direction():
    """With C = 2 and the curvature's input factor one-dimensional (every x~ on a line), H is
    itself a Kronecker product in that basis, so EK-FAC's scores are the exact ones."""
    rng = np.random.default_rng(1)
    n = 40
    x = rng.normal(size=(n, 1))
    y = rng.integers(0, 2, n)
    W, b = rng.normal(size=(1, 2)), np.zeros(2)
    exact, _ = head_influence_scores(W, b, x, y, bias=False, kind="exact")
    ekfac, _ = head_influence_scores(W, b, x, y, bias=False, kind="ekfac")
    for name in exact:
        np.testing.assert_allclose(ekfac[name], exact[name], rtol=1e-8)


def digits_head(ratio=0.1, seed=0):
    """A logistic-regression head on scikit-learn's digits with `ratio` of labels flipped."""
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    noisy, flipped = inject_noise(y, 10, ratio, mode="exact", seed=seed)
    clf = LogisticRegression(C=1.0, max_iter=2000).fit(x, noisy)
    return clf.coef_.T, clf.intercept_, x, noisy, flipped


def test_ekfac_agrees_with_exact_on_a_real_head():
    W, b, x, y, flipped = digits_head()
    exact, _ = head_influence_scores(W, b, x, y, kind="exact")
    ekfac, info = head_influence_scores(W, b, x, y, kind="ekfac")
    assert info["curvature"] == "ekfac"
    rho = spearmanr(exact["if_self"], ekfac["if_self"]).statistic
    auc_exact = roc_auc_score(flipped, exact["if_self"])
    auc_ekfac = roc_auc_score(flipped, ekfac["if_self"])
    assert rho >= 0.95, rho
    assert abs(auc_exact - auc_ekfac) <= 0.01, (auc_exact, auc_ekfac)


def test_auto_picks_exact_when_it_fits_and_ekfac_beyond():
    assert plan_curvature(1000, 64, 10, "auto", 2**30).kind == "exact"
    assert plan_curvature(50_000, 2048, 100, "auto", 4 * 2**30).kind == "ekfac"
    budget = need_bytes(1000, 64, 10, "exact") - 1
    assert plan_curvature(1000, 64, 10, "auto", budget).kind == "ekfac"


def test_a_budget_too_small_is_refused_before_any_work_naming_what_fits():
    with pytest.raises(MemoryBudgetError, match=r"--head-curvature ekfac needs .* and fits"):
        plan_curvature(50_000, 2048, 100, "exact", 4 * 2**30)
    with pytest.raises(MemoryBudgetError, match=r"--memory-budget of at least"):
        plan_curvature(100_000, 2048, 1000, "ekfac", 2**20)
    W, b, x, y = small_head()
    with pytest.raises(MemoryBudgetError, match="more than the memory budget"):
        head_influence_scores(W, b, x, y, kind="exact", budget_bytes=1000)


def test_progress_is_reported_and_silent_without_a_log():
    W, b, x, y = small_head(n=200)
    lines: list[str] = []
    head_influence_scores(W, b, x, y, kind="ekfac", chunk=50, log=lines.append)
    done = [line for line in lines if line.startswith("EK-FAC: scores: 100%")]
    assert done and "| 200/200 [" in done[-1] and " samples/s]" in done[-1], lines


def test_bad_shapes_are_refused():
    W, b, x, y = small_head()
    with pytest.raises(ValueError, match="needs features"):
        head_influence_scores(W, b, x[:, :3], y)
    with pytest.raises(ValueError, match="unknown head curvature"):
        head_influence_scores(W, b, x, y, kind="kfac")


def test_a_bare_head_is_scored_as_the_generic_last_layer_path_scores_it():
    """The influence detector routes a model without hidden layers to the structured head;
    its scores equal those of the generic last-layer path (per-sample gradients of every
    sample, dense Hessian by `jax.hessian`) on the same head."""
    from mislabel.curvature.inverse import make_inverse
    from mislabel.detect import score_detector
    from mislabel.network.mlp import make_model

    W, b, x, y = small_head(n=80, d=6, c=3)
    model = make_model((), 3)
    params = {"params": {"head": {"kernel": W.astype(np.float32), "bias": b.astype(np.float32)}}}
    generic, _ = make_inverse("last_layer", model, params, x, y).influence_scores()
    for name in ("if_self", "if_train", "if_train_minus_z"):
        got = score_detector(name, model, params, x, y)
        assert got.info["curvature"] == "last_layer" and got.info["hessian_curvature"] == "exact"
        np.testing.assert_allclose(got.scores_N, generic[name], rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("damping", [1e-4, 0.1])
def test_the_damped_solve_equals_a_dense_solve(damping):
    """Conjugate gradients on exact Hessian-vector products, EK-FAC preconditioned, against
    `numpy.linalg.solve` with the dense weighted Hessian (`softmax_head.dense_hessian`)."""
    from mislabel.curvature import softmax_head
    from mislabel.curvature.head_solve import damped_solve

    W, b, x, y = small_head(n=90, d=5, c=4)
    rng = np.random.default_rng(3)
    weights = rng.random(90) * (rng.random(90) < 0.8)
    weights /= weights.sum()
    rhs = rng.normal(size=(6, 4))
    Wb = softmax_head.stack(W, b)
    hess = softmax_head.dense_hessian(Wb, x, weights)
    want = np.linalg.solve(hess + damping * np.eye(hess.shape[0]), rhs.reshape(-1))
    got, info = damped_solve(W, b, x, y, weights, rhs, damping, chunk=16, tol=1e-12)
    assert info.converged and info.iterations < 60
    np.testing.assert_allclose(got.reshape(-1), want, rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match="damping > 0"):
        damped_solve(W, b, x, y, weights, rhs, 0.0)


def test_a_moved_system_multiplies_by_the_hessian_at_its_new_head_and_warm_starts_converge():
    """`HeadSystem.at` keeps the samples but evaluates H at the new head (against the dense
    `softmax_head.dense_hessian` there); a solve started from the answer stops at once, and
    one started nearby takes fewer iterations than one from zero."""
    from mislabel.curvature import softmax_head
    from mislabel.curvature.head_solve import HeadSystem

    W, b, x, y = small_head(n=90, d=5, c=4)
    weights = np.full(90, 1 / 90)
    rng = np.random.default_rng(4)
    W2, b2 = W + 0.3 * rng.normal(size=W.shape), b - 0.2
    system = HeadSystem(W, b, x, y, weights, chunk=16).at(W2, b2)
    hess = softmax_head.dense_hessian(softmax_head.stack(W2, b2), x, weights)
    V = rng.normal(size=(6, 4))
    np.testing.assert_allclose(system.matvec(V).reshape(-1), hess @ V.reshape(-1), atol=1e-12)
    rhs = rng.normal(size=(6, 4))
    want = np.linalg.solve(hess + 0.01 * np.eye(24), rhs.reshape(-1)).reshape(6, 4)
    cold, cold_info = system.solve(rhs, 0.01, tol=1e-11)
    np.testing.assert_allclose(cold, want, rtol=1e-8, atol=1e-10)
    _, info = system.solve(rhs, 0.01, x0=want, tol=1e-8)
    assert info.iterations == 0 and info.converged
    _, warm_info = system.solve(rhs, 0.01, x0=want * 1.01, tol=1e-11)
    assert warm_info.converged and warm_info.iterations < cold_info.iterations


def test_the_dense_hessian_is_chosen_only_where_it_is_cheaper_and_fits():
    from mislabel.repair.newton import dense_is_cheaper

    assert dense_is_cheaper(60_000, 34, solves=5)  # an MLP of the paper: 16 features, 2 classes
    assert not dense_is_cheaper(40_000, 5_130, solves=5)  # 512 features, 10 classes
    assert not dense_is_cheaper(60_000, 34, solves=5, budget_bytes=100)  # does not fit
