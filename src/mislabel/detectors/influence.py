"""The influence detectors (Algorithm 1 of the paper); higher score = more likely mislabeled:

- ``if_self``: ``g_z^T H^+ g_z`` (self-influence, z_test = z).
- ``if_train``: ``g_D^T H^+ g_z`` with ``g_D`` the gradient of the mean training loss.
- ``if_train_minus_z``: ``g_{D\\z}^T H^+ g_z`` with ``g_{D\\z} = (n g_D - g_z) / (n - 1)``.

The constant 1/n of the influence formula is dropped, and scores are ranked with a `+`
sign, highest first, as the authors' code. ``H`` is the mean Hessian over the whole (noisy)
training set, restricted to the curvature scope, built once by `mislabel.curvature.inverse` for all
three: the last layer's exact (pseudo-)inverse (the paper), or, for the ``_full`` names,
``(H + damping I)^-1`` over every parameter on the span of H's K largest-magnitude
eigenpairs. A model that is only a softmax head (no hidden layer: `mislabel repair-head`) is
scored from the head's structure (`mislabel.curvature.head`), exact or EK-FAC, in chunks
of samples and within a memory budget.
"""

from __future__ import annotations

import logging

import numpy as np

from mislabel.checks import check_finite, check_name
from mislabel.curvature.head import head_influence_scores
from mislabel.curvature.inverse import make_inverse
from mislabel.detectors.base import Detection, DetectorInput
from mislabel.detectors.loss import float64_loss_scores
from mislabel.network.mlp import MLP, Params
from mislabel.registry import (
    DETECTORS,
    FULL_SUFFIX,
    INFLUENCE_DETECTORS,
    PAPER_DETECTORS,
    SCOPES,
)
from mislabel.settings import CurvatureSettings


def anomaly_scores(
    model: MLP,
    params: Params,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    detectors: tuple[str, ...] = PAPER_DETECTORS,
    *,
    scope: str = "last_layer",
    curvature: CurvatureSettings | None = None,
) -> tuple[dict[str, np.ndarray], dict]:
    """Scores of the paper's detectors in float64, the inverse Hessian built once.

    `detectors` are names of `PAPER_DETECTORS`; `scope` picks the Hessian of the influence
    ones: ``last_layer`` (exact; `curvature.damping` 0 = pseudo-inverse) or ``full`` (every
    parameter, ``(H + full_damping I)^-1`` on the `lanczos_rank` largest-magnitude
    eigenpairs; full_damping must lie above minus every one of their eigenvalues).

    Returns:
      ({detector: scores (N,)}, curvature info dict, or {} if no influence detector ran).
    """
    for detector in detectors:
        check_name(detector, PAPER_DETECTORS, "detector of anomaly_scores")
    check_name(scope, SCOPES, "curvature scope")
    suffix = FULL_SUFFIX if scope == "full" else ""
    names = tuple(d + suffix for d in detectors if d in INFLUENCE_DETECTORS)
    out, info = {}, {}
    if "loss" in detectors:
        out["loss"] = float64_loss_scores(model, params, x_NxD, y_N)
        check_finite(out["loss"], "loss scores")
    if names:
        inp = DetectorInput(model, params, x_NxD, y_N, curvature=curvature or CurvatureSettings())
        found = score(names, inp)
        out.update({DETECTORS[name].base: found[name].scores_N for name in names})
        row = found[names[0]].info
        info = {k.removeprefix(ROW_PREFIX): v for k, v in row.items() if k.startswith(ROW_PREFIX)}
    return out, info


ROW_PREFIX = "hessian_"


def curvature_row(scope: str, info: dict) -> dict:
    """Facts of the curvature behind influence scores, for the detection summary."""
    return {"curvature": scope if info else "", **{ROW_PREFIX + k: v for k, v in info.items()}}


def score(names: tuple[str, ...], inp: DetectorInput) -> dict[str, Detection]:
    """Influence detectors of one curvature scope, sharing the gradients and the inverse
    (`make_inverse` of the scope, damped as `inp.curvature` says)."""
    entries = [DETECTORS[name] for name in names]
    scopes = {entry.scope for entry in entries}
    if len(scopes) != 1:
        raise ValueError(f"{names} mix curvature scopes; score each scope on its own")
    (scope,) = scopes
    if scope == "last_layer" and not inp.model.hidden:
        scores, info = _bare_head_scores(inp)
    else:
        inverse = make_inverse(
            scope, inp.model, inp.params, inp.x_NxD, inp.y_N, curvature=inp.curvature
        )
        scores, info = inverse.influence_scores()
    where = " (full network)" if scope == "full" else ""
    for entry in entries:
        check_finite(scores[entry.base], f"{entry.base} scores{where}")
    row = curvature_row(scope, info)
    return {entry.name: Detection(scores[entry.base], None, row) for entry in entries}


def _bare_head_scores(inp: DetectorInput) -> tuple[dict[str, np.ndarray], dict]:
    """A model that is only a softmax head (`mislabel repair-head`), scored from its
    structure (`mislabel.curvature.head`): the same kernel-only curvature as the last layer
    of any other model, without per-sample gradients of every sample at once, exact or
    EK-FAC as `inp.curvature.head_curvature` says, within `memory_budget`."""
    layer = inp.params["params"]["head"]
    c = inp.curvature
    return head_influence_scores(
        layer["kernel"],
        layer["bias"],
        inp.x_NxD,
        inp.y_N,
        bias=False,
        kind=c.head_curvature,
        damping=c.damping,
        pinv_rtol=c.pinv_rtol,
        budget_bytes=c.budget_bytes(),
        log=logging.getLogger(__name__).info,
    )
