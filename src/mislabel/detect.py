"""Anomaly scores for every training sample, the top-m flags, and detection metrics.

Detectors (Algorithm 1 of the paper); higher score = more likely mislabeled:
- ``loss``: cross-entropy of the given label.
- ``if_self``: ``g_z^T H^+ g_z`` (self-influence, z_test = z).
- ``if_train``: ``g_D^T H^+ g_z`` with ``g_D`` the gradient of the mean training loss.
- ``if_train_minus_z``: ``g_{D\\z}^T H^+ g_z`` with ``g_{D\\z} = (n g_D - g_z) / (n - 1)``.
The constant 1/n of the influence formula is dropped, and scores are ranked with a `+` sign,
highest first, as the authors' code. ``H`` is the mean Hessian over the whole (noisy)
training set, restricted to the curvature scope, computed once.

Beyond the paper (`score_detector` dispatches every name of `mislabel.names.DETECTORS`):
- ``if_*_full``: the same scores with H over every parameter, ``(H + damping I)^-1``
  restricted to the span of H's K largest-magnitude eigenpairs (`full_eigenpairs`: ARPACK
  Lanczos on jitted HVPs, residuals checked). All three come from one projection
  ``V^T g_z`` per sample (chunked, never the n x P gradient matrix): a few K HVPs + n
  per-sample gradients + an (n x P)(P x K) product in all.
- ``aum``: minus the area under the margin (`mislabel.aum`), with its own cut-off.
- ``cleanlab``: confident learning on cross-validated probabilities (`mislabel.confident`).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from mislabel.curvature import (
    InverseHessian,
    NumericalError,
    check_damping,
    per_sample_grads,
    spectral_inverse,
    spectral_solve,
    spectrum_info,
    weighted_hessian,
)
from mislabel.full_curvature import check_full_damping, flatten, full_eigenpairs, lowrank_info
from mislabel.model import MLP, Params, per_sample_loss
from mislabel.names import DETECTORS, INFLUENCE_DETECTORS, PAPER_DETECTORS, check_name
from mislabel.names import SCOPES as ALL_SCOPES
from mislabel.noise import n_flips
from mislabel.precision import float64, to_float64
from mislabel.settings import CurvatureSettings, DetectionSettings

GRADIENT_CHUNK = 256  # per-sample gradients of the full network are projected this many at once


def check_detector(detector: str) -> None:
    """Raise a ValueError naming the allowed detectors if `detector` is unknown."""
    check_name(detector, DETECTORS, "detector")


def loss_scores(model: MLP, params: Params, x_NxD: jax.Array, y_N: jax.Array) -> jax.Array:
    """Per-sample cross-entropy of the given labels, shape (N,)."""
    return per_sample_loss(model.apply(params, x_NxD), y_N)


def influence_on(g_test_P: jax.Array, grads_NxP: jax.Array, inverse: InverseHessian) -> jax.Array:
    """``g_test^T H^+ g_z`` for every training sample z, shape (N,)."""
    return grads_NxP @ inverse.solve(g_test_P)


def influence_scores(grads_NxP: jax.Array, inverse: InverseHessian) -> dict[str, jax.Array]:
    """All three influence scores from per-sample gradients and the inverse Hessian.

    Args:
      grads_NxP: gradient of each training sample's loss w.r.t. the curvature scope.
      inverse: H^+ (or damped inverse) of the mean training-loss Hessian.
    Returns:
      {"if_self", "if_train", "if_train_minus_z"}: arrays of shape (N,).
    """
    n = grads_NxP.shape[0]
    self_N = jnp.einsum("np,pn->n", grads_NxP, inverse.solve(grads_NxP.T))
    train_N = influence_on(grads_NxP.mean(axis=0), grads_NxP, inverse)
    minus_z_N = (n * train_N - self_N) / (n - 1)
    return {"if_self": self_N, "if_train": train_N, "if_train_minus_z": minus_z_N}


@partial(jax.jit, static_argnames=("model", "detectors", "scope"))
def _all_scores(
    model: MLP,
    params: Params,
    x_NxD: jax.Array,
    y_N: jax.Array,
    detectors: tuple[str, ...],
    scope: str,
    damping: float,
    rtol: float,
):
    """Every requested score in one compiled program (float64); also H's eigenvalues."""
    params = to_float64(params)
    x_NxD = x_NxD.astype(jnp.float64)
    out = {}
    if "loss" in detectors:
        out["loss"] = loss_scores(model, params, x_NxD, y_N)
    eigvals_P = jnp.zeros((0,))
    wanted = [d for d in detectors if d in INFLUENCE_DETECTORS]
    if wanted:
        n = x_NxD.shape[0]
        hess = weighted_hessian(model, params, x_NxD, y_N, jnp.full((n,), 1.0 / n), scope)
        spectrum = spectral_inverse(hess, damping, rtol)
        inverse = InverseHessian(partial(spectral_solve, spectrum), {})
        scores = influence_scores(per_sample_grads(model, params, x_NxD, y_N, scope), inverse)
        out.update({d: scores[d] for d in wanted})
        eigvals_P = spectrum.eigvals_P
    return out, eigvals_P


def lowrank_influence_scores(proj_NxK: jax.Array, scale_K: jax.Array) -> dict[str, jax.Array]:
    """The three influence scores from projections ``V^T g_z`` and ``1 / (lambda + damping)``.

    With ``H^-1 ~ V diag(scale) V^T``: self ``= sum_k scale_k (V^T g_z)_k^2``; train
    ``= (V^T g_z) . (scale * V^T g_D)`` where ``V^T g_D`` is the mean projection (linear).
    """
    n = proj_NxK.shape[0]
    self_N = jnp.sum(proj_NxK**2 * scale_K, axis=1)
    train_N = proj_NxK @ (scale_K * proj_NxK.mean(axis=0))
    minus_z_N = (n * train_N - self_N) / (n - 1)
    return {"if_self": self_N, "if_train": train_N, "if_train_minus_z": minus_z_N}


@partial(jax.jit, static_argnames="model")
def _lowrank_scores(
    model: MLP,
    params: Params,
    x_NxD: jax.Array,
    y_N: jax.Array,
    eigvecs_PxK: jax.Array,
    scale_K: jax.Array,
) -> dict[str, jax.Array]:
    """`lowrank_influence_scores` from per-sample gradients projected on the eigenvectors,
    `GRADIENT_CHUNK` samples at a time (never the n x P gradient matrix); float64 inputs."""
    theta_P, unravel = flatten(params)

    def project(sample) -> jax.Array:
        x_D, y = sample

        def loss(theta: jax.Array) -> jax.Array:
            return per_sample_loss(model.apply(unravel(theta), x_D[None, :]), y[None])[0]

        return eigvecs_PxK.T @ jax.grad(loss)(theta_P)

    proj_NxK = jax.lax.map(project, (x_NxD, y_N), batch_size=GRADIENT_CHUNK)
    return lowrank_influence_scores(proj_NxK, scale_K)


def anomaly_scores(
    model: MLP,
    params: Params,
    x_NxD: jax.Array,
    y_N: jax.Array,
    detectors: tuple[str, ...] = PAPER_DETECTORS,
    *,
    scope: str = "last_layer",
    damping: float = 0.0,
    rtol: float = 1e-10,
    lanczos_rank: int = 100,
) -> tuple[dict[str, np.ndarray], dict]:
    """Scores of the paper's detectors, in float64, one compiled program (H built once).

    `detectors` are names of `PAPER_DETECTORS`; `scope` picks the Hessian of the influence
    ones: ``last_layer`` (exact, `damping` 0 = pseudo-inverse) or ``full`` (every parameter,
    ``(H + damping I)^-1`` on the `lanczos_rank` largest-magnitude eigenpairs; damping must
    be > 0 and above minus every one of their eigenvalues).

    Returns:
      ({detector: scores (N,)}, curvature info dict, or {} if no influence detector ran).
    """
    for detector in detectors:
        check_name(detector, PAPER_DETECTORS, "detector of anomaly_scores")
    check_name(scope, ALL_SCOPES, "curvature scope")
    check_damping(damping)
    if scope == "full":
        return _full_anomaly_scores(
            model, params, x_NxD, y_N, tuple(detectors), damping=damping, rank=lanczos_rank
        )
    with float64():  # the curvature needs float64 (see mislabel.precision)
        out, eigvals = _all_scores(
            model,
            params,
            jnp.asarray(x_NxD),
            jnp.asarray(y_N, jnp.int32),
            tuple(detectors),
            scope,
            float(damping),
            float(rtol),
        )
        out = {k: np.asarray(v) for k, v in out.items()}
        eigvals = np.asarray(eigvals)
    info = spectrum_info(eigvals, damping, rtol) if eigvals.size else {}
    for name, values in out.items():
        check_finite(values, f"{name} scores")
    return out, info


def _full_anomaly_scores(
    model: MLP,
    params: Params,
    x_NxD: jax.Array,
    y_N: jax.Array,
    detectors: tuple[str, ...],
    *,
    damping: float,
    rank: int,
) -> tuple[dict[str, np.ndarray], dict]:
    """`anomaly_scores` with the full-network, low-rank inverse Hessian."""
    check_full_damping(damping)
    out, info = {}, {}
    if "loss" in detectors:
        out["loss"] = anomaly_scores(model, params, x_NxD, y_N, ("loss",))[0]["loss"]
    wanted = [d for d in detectors if d in INFLUENCE_DETECTORS]
    if wanted:
        with float64():
            params = to_float64(params)
            x_NxD = jnp.asarray(x_NxD, jnp.float64)
            y_N = jnp.asarray(y_N, jnp.int32)
            w_N = jnp.full((x_NxD.shape[0],), 1.0 / x_NxD.shape[0])
            pairs = full_eigenpairs(model, params, x_NxD, y_N, w_N, int(rank), seed=0)
            info = lowrank_info(pairs, damping)  # raises if some lambda <= -damping
            scale_K = 1.0 / (jnp.asarray(pairs.eigvals_K) + damping)
            vecs_PxK = jnp.asarray(pairs.eigvecs_PxK)
            scores = _lowrank_scores(model, params, x_NxD, y_N, vecs_PxK, scale_K)
            out.update({d: np.asarray(scores[d]) for d in wanted})
    for name, values in out.items():
        check_finite(values, f"{name} scores (full network)")
    return out, info


class Detection(NamedTuple):
    """A detector's scores (higher = more likely mislabeled), its own estimate of the number
    of mislabeled samples (None if it has none) and facts for the summary row."""

    scores_N: np.ndarray
    m_estimated: int | None
    info: dict


def score_detector(
    detector: str,
    model: MLP,
    params: Params,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    *,
    seed: int = 0,
    train_config=None,
    margin_ExN: np.ndarray | None = None,
    curvature: CurvatureSettings | None = None,
    detection: DetectionSettings | None = None,
) -> Detection:
    """Scores of any detector in `mislabel.names.DETECTORS`.

    Args:
      seed, train_config: how the model was trained (aum and cleanlab train more models
        the same way: AUM's threshold-sample run, cleanlab's cross-validation folds).
      margin_ExN: per-epoch training margins of the model (aum only).
    """
    from mislabel.names import split_scope
    from mislabel.train import TrainConfig

    check_detector(detector)
    train_config = train_config or TrainConfig()
    curvature = curvature or CurvatureSettings()
    detection = detection or DetectionSettings()
    n_classes = int(model.n_classes)
    if detector == "aum":
        from mislabel.aum import aum_scores, aum_threshold

        if margin_ExN is None:
            raise ValueError("detector 'aum' needs the training margins (margin_ExN)")
        est = aum_threshold(
            model.hidden,
            x_NxD,
            y_N,
            n_classes,
            seed,
            train_config,
            percentile=detection.aum_percentile,
        )
        info = {"aum_threshold": est.threshold, "aum_n_threshold": est.n_threshold}
        return Detection(aum_scores(margin_ExN), int(est.estimated_count), info)
    if detector == "cleanlab":
        from mislabel.confident import confident_learning

        scores, count, _, info = confident_learning(
            model.hidden, x_NxD, y_N, n_classes, seed, train_config, detection.cv_folds
        )
        return Detection(np.asarray(scores, np.float64), int(count), {"cv_folds": info["folds"]})
    base, scope = split_scope(detector)
    full = scope == "full"
    scores, info = anomaly_scores(
        model,
        params,
        x_NxD,
        y_N,
        (base,),
        scope=scope,
        damping=curvature.full_damping if full else curvature.damping,
        rtol=curvature.rtol,
        lanczos_rank=curvature.lanczos_rank,
    )
    return Detection(scores[base], None, _curvature_row(scope, info))


def detector_groups(detectors: tuple[str, ...]) -> list[tuple[str, ...]]:
    """`detectors` split into groups that share their expensive part, in a fixed order.

    The influence detectors of one curvature scope share the per-sample gradients and the
    Hessian (last layer) or its eigenpairs (full network): scoring them together
    computes those once. Every other detector is a group of its own.
    """
    from mislabel.names import split_scope

    for detector in detectors:
        check_detector(detector)
    groups: dict[str, list[str]] = {}
    for detector in dict.fromkeys(detectors):
        base, scope = split_scope(detector)
        key = f"influence:{scope}" if base in INFLUENCE_DETECTORS else detector
        groups.setdefault(key, []).append(detector)
    return [tuple(group) for group in groups.values()]


def score_group(
    group: tuple[str, ...],
    model: MLP,
    params: Params,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    **kwargs,
) -> dict[str, Detection]:
    """`score_detector` for every detector of one `detector_groups` group, sharing the work.

    Keyword arguments are those of `score_detector`.
    """
    from mislabel.names import split_scope

    if len(group) == 1:
        return {group[0]: score_detector(group[0], model, params, x_NxD, y_N, **kwargs)}
    scopes = {split_scope(d)[1] for d in group}
    bases = tuple(split_scope(d)[0] for d in group)
    if len(scopes) != 1 or not set(bases) <= set(INFLUENCE_DETECTORS):
        raise ValueError(f"{group} is not a group of detector_groups")
    (scope,) = scopes
    curvature = kwargs.get("curvature") or CurvatureSettings()
    scores, info = anomaly_scores(
        model,
        params,
        x_NxD,
        y_N,
        bases,
        scope=scope,
        damping=curvature.full_damping if scope == "full" else curvature.damping,
        rtol=curvature.rtol,
        lanczos_rank=curvature.lanczos_rank,
    )
    row = _curvature_row(scope, info)
    return {d: Detection(scores[b], None, row) for d, b in zip(group, bases, strict=True)}


def _curvature_row(scope: str, info: dict) -> dict:
    """Facts of the curvature behind influence scores, for the detection summary."""
    return {"curvature": scope if info else "", **{f"hessian_{k}": v for k, v in info.items()}}


def check_finite(values: np.ndarray, what: str) -> None:
    """Raise NumericalError naming `what` and the offending positions if not all finite."""
    values = np.asarray(values)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise NumericalError(
            f"{what} contain {bad.size} NaN/Inf values (first at indices {bad[:5].tolist()}: "
            f"{values.reshape(-1)[bad[:5]].tolist()}); the model or its curvature is degenerate"
        )


def budget(n: int, ratio: float) -> int:
    """Detection budget m = round(n * r), rounding halves up (not to even)."""
    if not 0 <= ratio < 1:
        raise ValueError(f"noise ratio must be in [0, 1), got {ratio}")
    return n_flips(ratio, n)


def flag_top(scores_N: np.ndarray, m: int) -> np.ndarray:
    """Boolean mask of the `m` highest scores (ties broken by lower index first)."""
    scores_N = np.asarray(scores_N)
    if not 0 <= m <= scores_N.shape[0]:
        raise ValueError(f"cannot flag m={m} of {scores_N.shape[0]} samples")
    order = np.argsort(-scores_N, kind="stable")
    flagged = np.zeros(scores_N.shape[0], bool)
    flagged[order[:m]] = True
    return flagged
