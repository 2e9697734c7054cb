"""A softmax head's curvature and Newton steps (`mislabel.curvature.softmax_head`,
`mislabel.repair.newton`), each against an independent truth: JAX's dense autodiff
Hessian and gradient, dense linear solves, and exact refits by scikit-learn."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from mislabel.curvature import softmax_head as head
from mislabel.network.precision import float64
from mislabel.repair import newton


def problem(seed=0, n=41, d=5, c=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = rng.integers(0, c, n)
    Wb = rng.normal(size=(d + 1, c))
    return x, y, Wb


def dense(Wb, x, y, w):
    """Autodiff truth: the weighted loss's gradient and Hessian over vec(Wb), row-major."""
    d1, c = Wb.shape

    def loss(theta):
        W = theta.reshape(d1, c)
        logits = x @ W[:-1] + W[-1]
        per = jax.nn.logsumexp(logits, axis=1) - logits[jnp.arange(len(y)), y]
        return jnp.sum(w * per)

    with float64():
        theta = jnp.asarray(Wb.reshape(-1), jnp.float64)
        return np.asarray(jax.grad(loss)(theta)), np.asarray(jax.hessian(loss)(theta))


def test_gradient_hessian_and_hvp_equal_autodiff():
    x, y, Wb = problem()
    w = np.random.default_rng(1).random(len(y))
    g_true, H_true = dense(Wb, x, y, w)
    np.testing.assert_allclose(head.gradient_sum(Wb, x, y, w), g_true, atol=1e-12)
    with float64():
        args = (jnp.asarray(Wb), jnp.asarray(x), jnp.asarray(w))
        H = np.asarray(head.hessian(*args, chunk=8))  # 41 samples: six chunks, one padded
        V = np.random.default_rng(2).normal(size=Wb.shape)
        Hv = np.asarray(head.hvp(*args, jnp.asarray(V)))
    np.testing.assert_allclose(H, H_true, atol=1e-12)
    np.testing.assert_allclose(Hv.reshape(-1), H_true @ V.reshape(-1), atol=1e-12)
    assert head.mean_eigenvalue(Wb, x, w) == pytest.approx(np.trace(H_true) / H_true.shape[0])


def test_damped_solve_equals_a_dense_solve():
    x, y, Wb = problem(3)
    w = np.full(len(y), 1 / len(y))
    _, H = dense(Wb, x, y, w)
    spec = head.spectrum(Wb, x, w)
    b = np.random.default_rng(4).normal(size=H.shape[0])
    np.testing.assert_allclose(
        spec.damped_solve(b, 0.1), np.linalg.solve(H + 0.1 * np.eye(len(b)), b), atol=1e-10
    )
    with pytest.raises(ValueError, match="damping > 0"):
        spec.damped_solve(b, 0.0)


@pytest.mark.parametrize("kind", ["influence", "ssse"])
def test_forget_steps_follow_their_formulas(kind):
    x, y, Wb = problem(5)
    n = len(y)
    forget = np.zeros(n, bool)
    forget[[1, 4, 9, 20]] = True
    w = np.full(n, 1 / n) if kind == "influence" else (~forget) / (~forget).sum()
    scale = 1 / n if kind == "influence" else 1 / (~forget).sum()
    _, H = dense(Wb, x, y, w)
    g, _ = dense(Wb, x, y, forget.astype(float))
    tau = np.trace(H) / H.shape[0]
    steps = newton.forget_steps(kind, Wb, x, y, forget, (0.1, 1.0))
    for step, rel in zip(steps, (0.1, 1.0), strict=True):
        want = Wb.reshape(-1) + scale * np.linalg.solve(H + rel * tau * np.eye(len(g)), g)
        np.testing.assert_allclose(step.Wb.reshape(-1), want, atol=1e-10)
        assert step.damping == pytest.approx(rel * tau)
        moved = np.linalg.norm(step.Wb - Wb) / np.linalg.norm(Wb)
        assert step.step_norm_relative == pytest.approx(moved)
    # a larger damping takes a smaller step
    assert steps[1].step_norm_relative < steps[0].step_norm_relative


def ridge_head(x, y, C=1.0):
    fit = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(x, y)
    return head.stack(fit.coef_.T, fit.intercept_)


def test_implied_ridge_recovers_scikit_learns_penalty():
    """scikit-learn minimises C sum L + ||W||^2 / 2: the mean loss plus (1 / (C n)) ||W||^2 / 2."""
    x, y, _ = problem(6, n=300, d=4, c=3)
    lam, residual = newton.implied_ridge(ridge_head(x, y, C=0.5), x, y)
    assert lam == pytest.approx(1 / (0.5 * 300), rel=1e-4)
    assert residual < 1e-3


def mean_ridge_fit(x, y, lam, c=3):
    """The exact minimiser of mean L + (lam / 2) ||W||^2 (bias unpenalised), by SciPy."""
    import scipy.optimize
    from scipy.special import logsumexp

    xt = np.hstack([x, np.ones((len(y), 1))])
    shape = (x.shape[1] + 1, c)

    def objective(theta):
        W = theta.reshape(shape)
        logits = xt @ W
        p = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
        p[np.arange(len(y)), y] -= 1
        penalised = W.copy()
        penalised[-1] = 0
        loss = np.mean(logsumexp(logits, axis=1) - logits[np.arange(len(y)), y])
        grad = xt.T @ p / len(y) + lam * penalised
        return loss + lam / 2 * np.sum(penalised**2), grad.reshape(-1)

    options = {"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000}
    found = scipy.optimize.minimize(
        objective, np.zeros(np.prod(shape)), jac=True, method="L-BFGS-B", options=options
    )
    return found.x.reshape(shape)


def test_removing_samples_approximates_an_exact_refit():
    """The damped Newton step that removes a fold from a ridge head lands close to the
    exact refit without the fold (approximate cross-validation): within 8% of the way the
    fold moved the head. Centring the gradients matters (without it: 10%)."""
    x, y, _ = problem(7, n=400, d=4, c=3)
    lam = 0.05
    Wb = mean_ridge_fit(x, y, lam)
    remove = np.zeros(len(y), bool)
    remove[::5] = True
    refit = mean_ridge_fit(x[~remove], y[~remove], lam)
    removed = newton.remove_samples(Wb, x, y, remove, lam)
    assert np.linalg.norm(removed - refit) < 0.08 * np.linalg.norm(Wb - refit)
    with pytest.raises(ValueError, match="damping > 0"):
        newton.remove_samples(Wb, x, y, remove, 0.0)


@pytest.mark.parametrize("kind", ["influence", "ssse"])
def test_forget_steps_without_the_dense_hessian_are_the_same_steps(kind):
    """A budget too small for the dense Hessian switches to conjugate gradients on exact
    Hessian-vector products; the candidates agree with the dense ones (and so with the
    formula checked above)."""
    x, y, Wb = problem(6, n=120)
    forget = np.zeros(len(y), bool)
    forget[::9] = True
    assert not newton.dense_fits(Wb.size, budget_bytes=100)
    dense_steps = newton.forget_steps(kind, Wb, x, y, forget, (0.03, 1.0))
    free_steps = newton.forget_steps(kind, Wb, x, y, forget, (0.03, 1.0), budget_bytes=100)
    for want, got in zip(dense_steps, free_steps, strict=True):
        assert got.damping == pytest.approx(want.damping, rel=1e-12)
        np.testing.assert_allclose(got.Wb, want.Wb, atol=1e-9)


def test_removing_samples_without_the_dense_hessian_lands_on_the_same_head():
    x, y, _ = problem(7, n=400, d=4, c=3)
    Wb = mean_ridge_fit(x, y, 0.05)
    remove = np.zeros(len(y), bool)
    remove[::5] = True
    dense_head = newton.remove_samples(Wb, x, y, remove, 0.05)
    free_head = newton.remove_samples(Wb, x, y, remove, 0.05, budget_bytes=100)
    np.testing.assert_allclose(free_head, dense_head, atol=1e-8)
