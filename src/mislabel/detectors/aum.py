"""The AUM detector: minus the area under the margin, with its threshold-sample estimate of
how many samples are mislabeled (`mislabel.aum`)."""

from __future__ import annotations

from mislabel.aum import aum_scores, aum_threshold
from mislabel.detectors.base import Detection, DetectorInput


def score(names: tuple[str, ...], inp: DetectorInput) -> dict[str, Detection]:
    """AUM scores from the training margins, and the count above its threshold."""
    (name,) = names
    if inp.margin_ExN is None:
        raise ValueError(f"detector {name!r} needs the training margins (margin_ExN)")
    est = aum_threshold(*inp.training_recipe(), percentile=inp.detection.aum_percentile)
    info = {"aum_threshold": est.threshold, "aum_n_threshold": est.n_threshold}
    return {name: Detection(aum_scores(inp.margin_ExN), int(est.estimated_count), info)}
