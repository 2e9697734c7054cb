"""Label issues from predicted probabilities you already have: `find_issues`.

Give it out-of-sample predicted probabilities ``pred_probs`` (N x C, row i from a model
that never trained on sample i, e.g. by cross-validation) and the given labels; it scores
every sample with a detector of `mislabel.detectors.probabilities.PROB_DETECTORS`, sets a
budget m (round(N r) for a given ratio r, else a budget estimator's count), flags samples
by a rule of `FLAG_RULES` (the top m scores, m spread over the class pairs of the
confident joint, or either) and, with a report directory, writes ``flagged.csv``,
``summary.json`` and, given images, ``flagged.png`` (`mislabel.report.flagged`). No model
is trained here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mislabel.checks import check_name, check_ratio
from mislabel.detect import budget
from mislabel.detectors.probabilities import (
    BUDGET_ESTIMATORS,
    DEFAULT_FLAG_BY,
    FLAG_RULES,
    PROB_DETECTORS,
    RATIO_FLAG_BY,
    check_probs,
)
from mislabel.report.flagged import write_repair_report

DEFAULT_DETECTOR = next(iter(PROB_DETECTORS))
DEFAULT_ESTIMATOR = next(iter(BUDGET_ESTIMATORS))


class Issues(NamedTuple):
    """What `find_issues` found; every array has one entry per sample (N,)."""

    scores_N: np.ndarray  # higher = more likely mislabeled
    suggested_N: np.ndarray  # argmax of the predicted probabilities
    flagged_N: np.ndarray  # bool: flagged by the rule `summary["flag_by"]`
    summary: dict


def check_images(images: np.ndarray | None, n: int) -> np.ndarray | None:
    """Grey images of the N samples (N x H x W), finite numbers; None stays None."""
    if images is None:
        return None
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[0] != n:
        raise ValueError(
            f"images must be an array N x H x W with one image per sample (N = {n}), got "
            f"shape {images.shape}; reshape flat features to (N, H, W)"
        )
    if not np.issubdtype(images.dtype, np.number) or not np.all(np.isfinite(images)):
        raise ValueError("images must be finite numbers")
    return images


def find_issues(
    pred_probs: np.ndarray,
    labels: np.ndarray,
    *,
    detector: str = DEFAULT_DETECTOR,
    ratio: float | None = None,
    budget_estimator: str = DEFAULT_ESTIMATOR,
    flag_by: str | None = None,
    report_dir: str | os.PathLike | None = None,
    images: np.ndarray | None = None,
) -> Issues:
    """Score every sample, flag the likeliest label errors and (optionally) write a report.

    Args:
      pred_probs: N x C out-of-sample predicted probabilities (rows sum to 1, C >= 2).
      labels: N given labels, integers in 0..C-1.
      detector: a name of `PROB_DETECTORS` (default: self-confidence, 1 - p(given label)).
      ratio: assumed noise ratio r in [0, 0.5]: the budget m = round(N r). None: m is
        as many as `budget_estimator` estimates are mislabeled.
      budget_estimator: a name of `BUDGET_ESTIMATORS`, used when `ratio` is None.
      flag_by: a name of `FLAG_RULES`, which samples the budget m flags: "global" the top
        m scores; "per_class_pair" m spread over the class pairs (given i, other j) as
        the confident joint spreads its off-diagonal, in each the largest margins
        p_j - p_i; "global_or_pair" either (m to 2m samples). None: `DEFAULT_FLAG_BY`
        without a ratio, `RATIO_FLAG_BY` (exactly m) with one.
      report_dir: where to write flagged.csv, summary.json (and flagged.png with images).
      images: N x H x W images of the samples, for flagged.png.
    Returns:
      `Issues` (scores, suggested labels, flags, and the summary that summary.json holds).
    """
    check_name(detector, tuple(PROB_DETECTORS), "detector")
    check_name(budget_estimator, tuple(BUDGET_ESTIMATORS), "budget estimator")
    if flag_by is None:
        flag_by = DEFAULT_FLAG_BY if ratio is None else RATIO_FLAG_BY
    check_name(flag_by, tuple(FLAG_RULES), "flag-by rule")
    check_ratio(ratio)
    y_N, probs_NxC = check_probs(labels, pred_probs, what="pred_probs")
    images = check_images(images, len(y_N))
    n, c = probs_NxC.shape

    scores_N = PROB_DETECTORS[detector](y_N, probs_NxC)
    suggested_N = probs_NxC.argmax(axis=1)
    estimates = {name: int(f(y_N, probs_NxC)) for name, f in BUDGET_ESTIMATORS.items()}
    if ratio is None:
        m, source = estimates[budget_estimator], f"estimated ({budget_estimator})"
    else:
        m, source = budget(n, ratio), f"ratio {ratio:g}: round(N r)"
    flagged_N, cells_CxC = FLAG_RULES[flag_by](y_N, probs_NxC, scores_N, m)
    summary = {
        "detector": detector,
        "flag_by": flag_by,
        "n": n,
        "n_classes": c,
        "budget": m,
        "budget_source": source,
        "ratio": ratio,
        "budget_estimator": None if ratio is not None else budget_estimator,
        "estimated_counts": estimates,
        "pair_cells": None if cells_CxC is None else cells_CxC.tolist(),
        "flagged": int(flagged_N.sum()),
        "flagged_per_given_label": np.bincount(y_N[flagged_N], minlength=c).tolist(),
        "suggested_differs": int((suggested_N != y_N).sum()),
    }
    if report_dir is not None:
        write_report(report_dir, scores_N, y_N, suggested_N, flagged_N, summary, images)
    return Issues(scores_N, suggested_N, flagged_N, summary)


def write_report(
    report_dir: str | os.PathLike,
    scores_N: np.ndarray,
    y_N: np.ndarray,
    suggested_N: np.ndarray,
    flagged_N: np.ndarray,
    summary: dict,
    images: np.ndarray | None = None,
) -> list[Path]:
    """flagged.csv (every sample: the flagged first, each part highest score first),
    summary.json and, with images, flagged.png in `report_dir`, each written atomically.
    Returns the paths."""
    n = len(y_N)
    paths = write_repair_report(
        report_dir,
        scores_N=scores_N,
        given_N=y_N,
        suggested_N=suggested_N,
        flagged_N=flagged_N,
        summary=summary,
        features_NxD=None if images is None else images.reshape(n, -1),
        image_shape=None if images is None else images.shape[1:],
    )
    return paths
