"""Does influence predict reality? Predicted vs actual leave-one-out loss change, small MLP.

Setting (all float64). A small MLP (`LOO_HIDDEN`) is trained with SGD on a subsample of a
run's noisy training set to ``theta_0``; then the objective

    J(theta) = (1/n) sum_i L(z_i; theta) + (damping / 2) ||theta - theta_0||^2

is minimised to ``theta*`` by full-batch L-BFGS. Its Hessian is exactly the damped Hessian
``H + damping I`` that the full-network influence uses, so influence's first-order
prediction is well defined there. For each removed sample z the same objective without
z's term (weight 1/n kept for the others) is minimised from ``theta*``, and

- actual:    ``L(z; theta*_{-z}) - L(z; theta*)``;
- predicted: ``(1/n) g_z^T H^-1 g_z`` (self-influence / n), with H^-1 from each scope:
  ``last_layer`` (exact last-layer Hessian, the pipeline's damping/pseudo-inverse),
  ``full`` (``(H + damping I)^-1`` by conjugate gradients: exact up to its tolerance) and
  ``full_lowrank`` (the top-k eigenspace used by the ``_full`` detectors).

The removed samples are half mislabeled (if there are any), half clean, chosen by seed.
Pearson and Spearman correlations between predicted and actual are reported per scope.
"""

from __future__ import annotations

import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mislabel.detect import anomaly_scores
from mislabel.full_curvature import cg_report, cg_solve, flatten, make_full_hvp
from mislabel.model import MLP, make_model, per_sample_loss
from mislabel.precision import float64, to_float64
from mislabel.settings import CurvatureSettings
from mislabel.train import TrainConfig, train

LOO_HIDDEN = (16,)  # the small MLP: 784 -> 16 -> C (12,594 parameters for two classes)
LOO_N = 500  # training samples of the small problem
LBFGS_STEPS = 400  # to theta*
LOO_STEPS = 200  # from theta* to each theta*_{-z}


def choose_removals(flipped_N: np.ndarray, count: int, seed: int) -> np.ndarray:
    """`count` distinct indices: half of them mislabeled (as many as exist), the rest clean."""
    rng = np.random.default_rng(seed)
    flipped_N = np.asarray(flipped_N, bool)
    if not 1 <= count <= flipped_N.size:
        raise ValueError(f"cannot remove {count} of {flipped_N.size} samples one at a time")
    bad, good = np.flatnonzero(flipped_N), np.flatnonzero(~flipped_N)
    n_bad = min(count // 2, bad.size)
    picked = [rng.choice(bad, n_bad, replace=False), rng.choice(good, count - n_bad, replace=False)]
    return np.sort(np.concatenate(picked))


@partial(jax.jit, static_argnames=("model", "steps"))
def minimise(model: MLP, params, theta_P, anchor_P, x_NxD, y_N, w_N, damping, steps: int):
    """Full-batch L-BFGS on `make_objective` from `theta_P` (pure; `params` gives the shapes).

    Returns the final flat parameters and the final gradient norm.
    """
    objective = make_objective(model, params, anchor_P, x_NxD, y_N, w_N, damping)
    solver = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(objective)

    def step(carry, _):
        theta, state = carry
        value, grad = value_and_grad(theta, state=state)
        updates, state = solver.update(
            grad, state, theta, value=value, grad=grad, value_fn=objective
        )
        return (optax.apply_updates(theta, updates), state), None

    (theta_P, _), _ = jax.lax.scan(step, (theta_P, solver.init(theta_P)), None, length=steps)
    return theta_P, jnp.linalg.norm(jax.grad(objective)(theta_P))


def make_objective(model: MLP, params, anchor_P, x_NxD, y_N, w_N, damping):
    """``J(theta) = sum_i w_i L_i(theta) + damping/2 ||theta - anchor||^2`` on flat theta."""
    _, unravel = flatten(params)

    def objective(theta_P):
        losses = per_sample_loss(model.apply(unravel(theta_P), x_NxD), y_N)
        return jnp.sum(w_N * losses) + 0.5 * damping * jnp.sum((theta_P - anchor_P) ** 2)

    return objective


def correlations(predicted: np.ndarray, actual: np.ndarray) -> dict:
    """Pearson and Spearman correlation (scipy) and the least-squares slope actual ~ predicted."""
    from scipy import stats

    predicted, actual = np.asarray(predicted, float), np.asarray(actual, float)
    slope = float(np.dot(predicted, actual) / max(np.dot(predicted, predicted), 1e-300))
    return {
        "pearson": float(stats.pearsonr(predicted, actual)[0]),
        "spearman": float(stats.spearmanr(predicted, actual)[0]),
        "slope": slope,
    }


def validate_influence(
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    flipped_N: np.ndarray,
    n_classes: int,
    *,
    samples: int = 40,
    seed: int = 0,
    train_config: TrainConfig | None = None,
    curvature: CurvatureSettings | None = None,
    n_train: int = LOO_N,
    hidden: tuple[int, ...] = LOO_HIDDEN,
    steps: tuple[int, int] = (LBFGS_STEPS, LOO_STEPS),
) -> tuple[list[dict], dict]:
    """Predicted vs actual leave-one-out loss change for each scope (see the module doc).

    Args:
      x_NxD: float inputs in [0, 1]; y_N: (noisy) labels; flipped_N: which are mislabeled.
      samples: how many samples are removed, one at a time.
      n_train, hidden: size of the small problem (a seeded subsample, the MLP's widths).
      steps: L-BFGS iterations to theta* and from theta* to each theta*_{-z}.
    Returns:
      (one row per scope: scope, n, n_runs, pearson, spearman, slope, mean_abs_actual),
      facts of the run (gradient norms at the optima, CG convergence, seconds).
    """
    start = time.perf_counter()
    train_config = train_config or TrainConfig()
    curvature = curvature or CurvatureSettings()
    rng = np.random.default_rng(seed)
    sub = np.sort(rng.choice(len(y_N), min(n_train, len(y_N)), replace=False))
    x, y, flipped = np.asarray(x_NxD, np.float32)[sub], np.asarray(y_N)[sub], flipped_N[sub]
    n = len(y)
    removed = choose_removals(flipped, samples, seed)
    model = make_model(hidden, n_classes)
    state, _ = train(model, x, y, seed, train_config)
    damping = float(curvature.full_damping)
    with float64():
        params = to_float64(state.params)
        theta0_P, unravel = flatten(params)
        x64, y32 = jnp.asarray(x, jnp.float64), jnp.asarray(y, jnp.int32)
        w_N = jnp.full((n,), 1.0 / n)
        theta_P, grad_norm = minimise(
            model, params, theta0_P, theta0_P, x64, y32, w_N, damping, steps[0]
        )
        star = jax.device_get(unravel(theta_P))

        def leave_out(index):
            w = w_N.at[index].set(0.0)
            new_P, norm = minimise(model, params, theta_P, theta0_P, x64, y32, w, damping, steps[1])
            return new_P, norm

        new_RxP, norms_R = jax.lax.map(leave_out, jnp.asarray(removed))
        sample_loss = jax.vmap(
            lambda t, i: per_sample_loss(model.apply(unravel(t), x64[i][None]), y32[i][None])[0]
        )
        base_R = sample_loss(jnp.broadcast_to(theta_P, new_RxP.shape), jnp.asarray(removed))
        actual_R = np.asarray(sample_loss(new_RxP, jnp.asarray(removed)) - base_R)

        # full network, conjugate gradients, one solve per removed sample
        def grad_z(index):
            return jax.grad(
                lambda t: per_sample_loss(
                    model.apply(unravel(t), x64[index][None]), y32[index][None]
                )[0]
            )(theta_P)

        grads_RxP = jax.vmap(grad_z)(jnp.asarray(removed))
        hvp = make_full_hvp(model, star, x64, y32, w_N)
        solves_RxP, cg_info = jax.vmap(
            lambda b: cg_solve(hvp, b, damping, curvature.cg_tol, curvature.cg_maxiter)
        )(grads_RxP)
        full_R = np.asarray(jnp.sum(grads_RxP * solves_RxP, axis=1)) / n
        cg = cg_report(cg_info)
    predicted = {"full": full_R}
    for scope, key, damp in (
        ("last_layer", "last_layer", curvature.damping),
        ("full_lowrank", "full", damping),
    ):
        scores, _ = anomaly_scores(
            model,
            star,
            x,
            y,
            ("if_self",),
            scope=key,
            damping=damp,
            rtol=curvature.rtol,
            lanczos_rank=curvature.lanczos_rank,
        )
        predicted[scope] = scores["if_self"][removed] / n
    rows = [
        {
            "scope": scope,
            "n": n,
            "n_removed": 1,
            "n_runs": int(removed.size),
            **correlations(predicted[scope], actual_R),
            "mean_abs_actual": float(np.mean(np.abs(actual_R))),
        }
        for scope in ("last_layer", "full", "full_lowrank")
    ]
    facts = {
        "hidden": list(hidden),
        "damping": damping,
        "grad_norm_at_optimum": float(grad_norm),
        "max_grad_norm_after_removal": float(np.max(np.asarray(norms_R))),
        "cg_iterations": cg["iterations"],
        "cg_converged": cg["converged"],
        "cg_negative_curvature": cg["negative_curvature"],
        "seconds": time.perf_counter() - start,
    }
    return rows, facts
