"""Scoring with any registered detector, and the top-m flags.

`score_detector` runs one detector of `mislabel.registry.DETECTORS`; `detector_groups` and
`score_group` run several, sharing their expensive part (the influence detectors of one
curvature scope share the per-sample gradients and the inverse Hessian). The detectors
themselves live in `mislabel.detectors` (one module per family). `flag_top` flags the
`m` highest scores.
"""

from __future__ import annotations

import numpy as np

from mislabel.checks import check_name
from mislabel.detectors.base import Detection, DetectorInput
from mislabel.noise import n_flips
from mislabel.registry import DETECTORS
from mislabel.settings import CurvatureSettings, DetectionSettings


def check_detector(detector: str) -> None:
    """Raise a ValueError naming the allowed detectors if `detector` is unknown."""
    check_name(detector, tuple(DETECTORS), "detector")


def detector_input(
    model,
    params,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    *,
    seed: int = 0,
    train_config=None,
    margin_ExN: np.ndarray | None = None,
    curvature: CurvatureSettings | None = None,
    detection: DetectionSettings | None = None,
) -> DetectorInput:
    """The `DetectorInput` of a trained model (defaults: `mislabel.settings`, `TrainConfig`)."""
    from mislabel.settings import TrainConfig

    return DetectorInput(
        model,
        params,
        x_NxD,
        y_N,
        seed,
        train_config or TrainConfig(),
        margin_ExN,
        curvature or CurvatureSettings(),
        detection or DetectionSettings(),
    )


def score_detector(detector: str, model, params, x_NxD, y_N, **kwargs) -> Detection:
    """Scores of any detector in `mislabel.registry.DETECTORS`.

    Keyword arguments are those of `detector_input`: seed, train_config (how the model was
    trained: aum and cleanlab train more models the same way), margin_ExN (the per-epoch
    training margins, aum only), curvature, detection.
    """
    inp = detector_input(model, params, x_NxD, y_N, **kwargs)
    return score_group((detector,), inp)[detector]


def detector_groups(detectors: tuple[str, ...]) -> list[tuple[str, ...]]:
    """`detectors` split into groups that share their expensive part, in a fixed order.

    Detectors whose registry entries have the same `group` key are scored in one call;
    every other detector is a group of its own.
    """
    for detector in detectors:
        check_detector(detector)
    groups: dict[str, list[str]] = {}
    for detector in dict.fromkeys(detectors):
        groups.setdefault(DETECTORS[detector].group, []).append(detector)
    return [tuple(group) for group in groups.values()]


def score_group(group: tuple[str, ...], inp: DetectorInput) -> dict[str, Detection]:
    """`score_detector` for every detector of one `detector_groups` group, sharing the work:
    the registry entry's function, called once with the whole group and `inp`."""
    for detector in group:
        check_detector(detector)
    if len({DETECTORS[d].group for d in group}) != 1:
        raise ValueError(f"{group} is not a group of detector_groups")
    return DETECTORS[group[0]].load()(tuple(group), inp)


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
