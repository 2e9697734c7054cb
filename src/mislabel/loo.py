"""Does the damped influence predict leave-one-out retraining of a damped objective? Small MLP.

Setting (all float64). A small MLP (`LOO_HIDDEN`) is trained with SGD on a subsample of a
run's noisy training set to ``theta_0``; then the objective

    J(theta) = (1/n) sum_i L(z_i; theta) + (damping / 2) ||theta - theta_0||^2

is minimised to ``theta*`` by full-batch L-BFGS. Its Hessian is exactly the damped Hessian
``H + damping I`` that the full-network influence uses, so influence's first-order
prediction is well defined there. For each removed sample z the same objective without
z's term (weight 1/n kept for the others) is minimised from ``theta*``, and

- actual:    ``L(z; theta*_{-z}) - L(z; theta*)``;
- predicted: ``(1/n) g_z^T (H + damping I)^-1 g_z`` (self-influence / n), with J's damping
  in every scope: ``last_layer`` (the exact Hessian of the head's kernel, other parameters
  held fixed), ``full`` (all parameters, conjugate gradients: exact up to their tolerance)
  and ``full_lowrank`` (the k largest-magnitude eigenpairs, as the ``_full`` detectors).

The removed samples are half mislabeled (if there are any), half clean, chosen by seed.
Pearson and Spearman correlations between predicted and actual are reported per scope.
"""

from __future__ import annotations

import time
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mislabel.curvature.full import cg_report, cg_solve, flatten, make_full_hvp
from mislabel.detectors.influence import anomaly_scores
from mislabel.network.mlp import MLP, Params, make_model, per_sample_loss
from mislabel.network.precision import float64, to_float64
from mislabel.network.train import train
from mislabel.settings import CurvatureSettings, TrainConfig

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


class LooProblem(NamedTuple):
    """The small problem: model, its optimum theta* of J, the anchor theta_0, the data.

    params: theta* as a float64 pytree; anchor_P: theta_0, flat (P,); x_NxD (float32),
    y_N: the subsample; removed_R: indices removed one at a time; damping: J's damping;
    grad_norm: ``||grad J(theta*)||``.
    """

    model: MLP
    params: Params
    anchor_P: np.ndarray
    x_NxD: np.ndarray
    y_N: np.ndarray
    removed_R: np.ndarray
    damping: float
    grad_norm: float


def loo_problem(
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    flipped_N: np.ndarray,
    n_classes: int,
    *,
    samples: int,
    seed: int,
    train_config: TrainConfig,
    damping: float,
    n_train: int = LOO_N,
    hidden: tuple[int, ...] = LOO_HIDDEN,
    steps: int = LBFGS_STEPS,
) -> LooProblem:
    """Subsample, train the small MLP to theta_0 (SGD), minimise J to theta* (L-BFGS)."""
    rng = np.random.default_rng(seed)
    sub = np.sort(rng.choice(len(y_N), min(n_train, len(y_N)), replace=False))
    x, y = np.asarray(x_NxD, np.float32)[sub], np.asarray(y_N, np.int32)[sub]
    removed = choose_removals(np.asarray(flipped_N)[sub], samples, seed)
    model = make_model(hidden, n_classes)
    state, _ = train(model, x, y, seed, train_config)
    with float64():
        params = to_float64(state.params)
        theta0_P, unravel = flatten(params)
        w_N = jnp.full((len(y),), 1.0 / len(y))
        x64, y32 = jnp.asarray(x, jnp.float64), jnp.asarray(y)
        theta_P, norm = minimise(model, params, theta0_P, theta0_P, x64, y32, w_N, damping, steps)
        star = jax.device_get(unravel(theta_P))
        anchor = np.asarray(theta0_P)
    return LooProblem(model, star, anchor, x, y, removed, float(damping), float(norm))


def actual_changes(problem: LooProblem, steps: int = LOO_STEPS) -> tuple[np.ndarray, float]:
    """``L(z; theta*_{-z}) - L(z; theta*)`` for each removed z, shape (R,), by L-BFGS from
    theta* on J without z's term; also the largest final gradient norm."""
    model, n = problem.model, len(problem.y_N)
    with float64():
        theta_P, unravel = flatten(to_float64(problem.params))
        anchor_P = jnp.asarray(problem.anchor_P)
        x64, y32 = jnp.asarray(problem.x_NxD, jnp.float64), jnp.asarray(problem.y_N)
        w_N = jnp.full((n,), 1.0 / n)

        def leave_out(index):
            w = w_N.at[index].set(0.0)
            return minimise(
                model, problem.params, theta_P, anchor_P, x64, y32, w, problem.damping, steps
            )

        removed = jnp.asarray(problem.removed_R)
        new_RxP, norms_R = jax.lax.map(leave_out, removed)
        sample_loss = jax.vmap(
            lambda t, i: per_sample_loss(model.apply(unravel(t), x64[i][None]), y32[i][None])[0]
        )
        base_R = sample_loss(jnp.broadcast_to(theta_P, new_RxP.shape), removed)
        actual_R = np.asarray(sample_loss(new_RxP, removed) - base_R)
    return actual_R, float(np.max(np.asarray(norms_R)))


def predicted_changes(
    problem: LooProblem, curvature: CurvatureSettings
) -> tuple[dict[str, np.ndarray], dict]:
    """Influence's prediction ``(1/n) g_z^T H^-1 g_z`` for each removed z, per scope.

    Every scope inverts ``H + damping I`` with J's own damping (`problem.damping`), H the
    mean-loss Hessian at theta*: ``full`` by conjugate gradients, ``last_layer`` on the
    head's kernel only, ``full_lowrank`` on the `lanczos_rank` largest-magnitude eigenpairs.

    Returns:
      ({scope: (R,)}, facts: cg_iterations, cg_converged, cg_negative_curvature and the
      ``eig_*`` keys of the low-rank eigenpairs' `lowrank_info`).
    """
    model, n, damping = problem.model, len(problem.y_N), problem.damping
    removed = jnp.asarray(problem.removed_R)
    with float64():
        params = to_float64(problem.params)
        theta_P, unravel = flatten(params)
        x64, y32 = jnp.asarray(problem.x_NxD, jnp.float64), jnp.asarray(problem.y_N)

        def grad_z(index):
            def loss(t):
                return per_sample_loss(model.apply(unravel(t), x64[index][None]), y32[index][None])

            return jax.grad(lambda t: loss(t)[0])(theta_P)

        grads_RxP = jax.vmap(grad_z)(removed)
        hvp = make_full_hvp(model, params, x64, y32, jnp.full((n,), 1.0 / n))
        solves_RxP, cg_info = jax.vmap(
            lambda b: cg_solve(hvp, b, damping, curvature.cg_tol, curvature.cg_maxiter)
        )(grads_RxP)
        predicted = {"full": np.asarray(jnp.sum(grads_RxP * solves_RxP, axis=1)) / n}
        cg = cg_report(cg_info)
    infos = {}
    for scope, key in (("last_layer", "last_layer"), ("full_lowrank", "full")):
        scores, infos[scope] = anomaly_scores(
            model,
            problem.params,
            problem.x_NxD,
            problem.y_N,
            ("if_self",),
            scope=key,
            curvature=curvature._replace(damping=damping, full_damping=damping),
        )
        predicted[scope] = scores["if_self"][problem.removed_R] / n
    facts = {f"cg_{k}": v for k, v in cg.items() if k != "relative_residual"}
    facts.update({k: v for k, v in infos["full_lowrank"].items() if k.startswith("eig_")})
    return predicted, facts


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
      (one row per scope: scope, n, n_runs, pearson, spearman, slope, mean_abs_actual; the
      full_lowrank row also eig_max_residual, eig_max_relative_residual, eig_matvecs of its
      eigenpairs), facts of the run (gradient norms at the optima, CG convergence, seconds).
    """
    start = time.perf_counter()
    curvature = curvature or CurvatureSettings()
    problem = loo_problem(
        x_NxD,
        y_N,
        flipped_N,
        n_classes,
        samples=samples,
        seed=seed,
        train_config=train_config or TrainConfig(),
        damping=float(curvature.full_damping),
        n_train=n_train,
        hidden=hidden,
        steps=steps[0],
    )
    actual_R, max_norm = actual_changes(problem, steps[1])
    predicted, found = predicted_changes(problem, curvature)
    eig = {k: v for k, v in found.items() if k.startswith("eig_")}
    rows = [
        {
            "scope": scope,
            "n": len(problem.y_N),
            "n_removed": 1,
            "n_runs": int(problem.removed_R.size),
            **correlations(predicted[scope], actual_R),
            "mean_abs_actual": float(np.mean(np.abs(actual_R))),
            **(eig if scope == "full_lowrank" else {}),
        }
        for scope in ("last_layer", "full", "full_lowrank")
    ]
    facts = {
        "hidden": list(hidden),
        "damping": problem.damping,
        "grad_norm_at_optimum": problem.grad_norm,
        "max_grad_norm_after_removal": max_norm,
        **found,
        "seconds": time.perf_counter() - start,
    }
    return rows, facts
