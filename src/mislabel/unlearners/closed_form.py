"""The closed-form unlearners (Algorithm 2 of the paper), on either curvature scope.

With ``n`` training samples, ``m = |D_forget|`` and ``G = sum_{z in D_forget} grad L(z)``
(gradients w.r.t. the curvature scope, at the trained parameters):

- ``influence`` (Koh & Liang): ``theta + (1/n) H^+ G``, H over the whole training set.
- ``ssse`` (Peste et al.; one Newton step): ``theta + 1/(n-m) H_rem^+ G``, H_rem the mean
  Hessian over the remaining samples.

Only the scope's parameters change. ``H^+`` comes from `mislabel.curvature.inverse.make_inverse`:
the last layer's exact (pseudo-)inverse, or for ``influence_full`` / ``ssse_full``
``(H + damping I)^-1 G`` over every parameter by conjugate gradients (damping doubled
while H + damping I is indefinite; `IndefiniteHessianError` if it stays so, the model never
replaced by a truncated iterate; a solve that runs out of iterations returns its
approximate step, marked ``cg_converged: False``, with a warning).
"""

from __future__ import annotations

import warnings

import jax
import numpy as np

from mislabel.curvature.inverse import make_inverse
from mislabel.curvature.last_layer import forget_gradient, get_scoped, set_scoped
from mislabel.network.mlp import MLP, Params
from mislabel.network.precision import float64, float64_problem, to_float32
from mislabel.network.train import TrainState
from mislabel.registry import UNLEARNERS
from mislabel.settings import CurvatureSettings
from mislabel.unlearners.base import UnlearnInput


def newton_step(
    model: MLP,
    params: Params,
    x_NxD,
    y_N,
    forget_N: np.ndarray,
    hess_w_N: np.ndarray,
    scale: float,
    scope: str,
    curvature: CurvatureSettings | None = None,
) -> tuple[Params, dict]:
    """``theta + scale * H_w^-1 sum_forget grad L(z)`` over `scope`, H_w the Hessian of
    ``sum_i w_i L(z_i)``; float64 parameters and the curvature info."""
    curvature = curvature or CurvatureSettings()
    inverse = make_inverse(scope, model, params, x_NxD, y_N, hess_w_N, curvature)
    with float64():
        params, x_NxD, y_N = float64_problem(params, x_NxD, y_N)
        forget = jax.numpy.asarray(forget_N, bool)
        grad_P = forget_gradient(model, params, x_NxD, y_N, forget, scope)
        step_P, info = inverse.solve(grad_P)
        theta_P = get_scoped(params, scope) + float(scale) * step_P
        new = jax.device_get(set_scoped(params, theta_P, scope))
    if info.get("cg_converged") is False:
        warnings.warn(
            f"full-network Newton step: conjugate gradients did not converge in "
            f"{info['cg_iterations']} iterations (relative residual "
            f"{info['cg_relative_residual']:.3g} > cg_tol {curvature.cg_tol:g}); the step is "
            "approximate and marked cg_converged=False. Raise cg_maxiter (or full_damping)",
            RuntimeWarning,
            stacklevel=3,
        )
    return new, info


def influence_update(
    model: MLP,
    params: Params,
    x_NxD,
    y_N,
    forget_N,
    *,
    scope: str = "last_layer",
    curvature: CurvatureSettings | None = None,
) -> tuple[Params, dict]:
    """``theta + (1/n) H^+ sum_forget grad L(z)``, H the mean Hessian over all n samples.

    `scope` "last_layer" (exact, pseudo-inverse if `curvature.damping` is 0) or "full"
    (every parameter, conjugate gradients on ``H + full_damping I``). Returns float64
    parameters (only the scope changed) and the curvature info.
    """
    n = len(forget_N)
    weights = np.full(n, 1.0 / n)
    return newton_step(model, params, x_NxD, y_N, forget_N, weights, 1.0 / n, scope, curvature)


def ssse_update(
    model: MLP,
    params: Params,
    x_NxD,
    y_N,
    forget_N,
    *,
    scope: str = "last_layer",
    curvature: CurvatureSettings | None = None,
) -> tuple[Params, dict]:
    """``theta + 1/(n-m) H_rem^+ sum_forget grad L(z)``, H_rem the mean over the n-m kept.

    Scope and settings as `influence_update`. Returns float64 parameters and the info.
    """
    forget_N = np.asarray(forget_N, bool)
    n_rem = int(np.sum(~forget_N))
    weights = (~forget_N).astype(np.float64) / n_rem
    scale = 1.0 / n_rem
    return newton_step(model, params, x_NxD, y_N, forget_N, weights, scale, scope, curvature)


def run(unlearner: str, inp: UnlearnInput) -> tuple[TrainState, dict]:
    """The unlearner signature: influence or SSSE of the unlearner's registered scope."""
    entry = UNLEARNERS[unlearner]
    update = {"influence": influence_update, "ssse": ssse_update}[entry.base]
    args = (inp.model, inp.state.params, inp.x_NxD, inp.y_N, inp.forget_N)
    params, info = update(*args, scope=entry.scope, curvature=inp.curvature)
    return TrainState(to_float32(params), inp.state.opt_state), info
