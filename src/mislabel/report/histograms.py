"""Figures 5.1-5.4: histograms of each detector's anomaly scores, mislabeled vs clean."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from mislabel.report.cells import LATEX
from mislabel.report.figure_style import mpl_label, new_figure, save_figure
from mislabel.report.labels import DETECTOR_LABELS, label_of, ordered
from mislabel.workflow.artifacts import HISTOGRAM_FIGURES, histogram_stem

SCORE_KEYS = ("scores", "flipped", "flagged", "detector", "ratio", "m")
Y_CAP = 50
HIST_BINS = 50
CLEAN_COLOR = "tab:blue"
MISLABELED_COLOR = "tab:red"


def histogram_figure(
    scores: np.ndarray,
    flipped: np.ndarray,
    *,
    label: str,
    ratio: float,
    seed: int,
    threshold: float | None = None,
    bins: int = HIST_BINS,
    ymax: float = Y_CAP,
) -> Figure:
    """Histogram of anomaly scores, mislabeled vs clean, on shared bins, y axis capped.

    Args:
      scores: (n,) anomaly scores; non-finite values are left out.
      flipped: (n,) bool, True for mislabeled samples.
      label: detector name for the axis label and title (mathtext allowed).
      threshold: optional top-m threshold, drawn as a dashed vertical line.
    """
    scores = np.asarray(scores, dtype=float)
    flipped = np.asarray(flipped, dtype=bool)
    if scores.ndim != 1 or scores.shape != flipped.shape:
        raise ValueError(
            f"scores and flipped must be 1-D of equal length, got {scores.shape}, {flipped.shape}"
        )
    finite = np.isfinite(scores)
    if not finite.any():
        raise ValueError("no finite scores to plot")
    edges = np.histogram_bin_edges(scores[finite], bins=bins)
    clean, mislabeled = scores[finite & ~flipped], scores[finite & flipped]
    fig = new_figure()
    ax = fig.add_subplot()
    ax.hist(clean, bins=edges, color=CLEAN_COLOR, alpha=0.5, label=f"clean (n = {clean.size})")
    ax.hist(
        mislabeled,
        bins=edges,
        color=MISLABELED_COLOR,
        alpha=0.5,
        label=f"mislabeled (n = {mislabeled.size})",
    )
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", linewidth=0.8, label="top-m threshold")
    ax.set_ylim(0, ymax)
    ax.set_xlabel(f"anomaly score: {label}")
    ax.set_ylabel("number of training samples")
    ax.set_title(f"{label}\nnoise ratio r = {ratio:g} (seed {seed})", fontsize="medium")
    ax.legend(loc="upper right", fontsize="small")
    return fig


def load_scores(path: str | os.PathLike) -> dict[str, Any]:
    """Read a score `.npz` (scores, flipped, flagged, detector, ratio, m) and check it."""
    with np.load(path, allow_pickle=False) as npz:
        missing = [key for key in SCORE_KEYS if key not in npz.files]
        if missing:
            raise ValueError(f"{path}: missing key(s) {', '.join(missing)}")
        data = {key: npz[key] for key in SCORE_KEYS}
    n = data["scores"].shape
    if len(n) != 1 or data["flipped"].shape != n or data["flagged"].shape != n:
        raise ValueError(f"{path}: scores, flipped and flagged must be (n,) arrays of equal n")
    data["detector"] = str(data["detector"].item())
    data["ratio"] = float(data["ratio"])
    data["m"] = int(data["m"])
    data["flipped"] = data["flipped"].astype(bool)
    data["flagged"] = data["flagged"].astype(bool)
    return data


def histogram_caption(detector: str, *, ratio: float, seed: int, n_seeds: int) -> str:
    """The paper's caption for a score histogram (LaTeX)."""
    seeds = f"seed {seed}" + (f", first of {n_seeds} seeds" if n_seeds > 1 else "")
    return (
        f"Histogram of the anomaly score {label_of(detector, DETECTOR_LABELS, LATEX)} for "
        f"mislabeled and clean training samples at noise ratio $r = {ratio:g}$ ({seeds}); "
        f"y axis capped at {Y_CAP}."
    )


def render_histograms(
    score_paths: Mapping[str, str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    seed: int,
    n_seeds: int = 1,
) -> list[Path]:
    """Figures 5.1-5.4 (+ fig_extra_<name> for other detectors) from score files.

    Args:
      score_paths: detector name -> score `.npz` path.
      seed: the seed the scores come from (named in the caption).
      n_seeds: how many seeds the run has; captions say "first of N seeds" when > 1.

    Returns:
      pdf, png and tex paths per detector, detectors in paper order then by name.
    """
    if not score_paths:
        raise ValueError("score_paths is empty")
    if n_seeds < 1:
        raise ValueError(f"n_seeds must be >= 1, got {n_seeds}")
    written: list[Path] = []
    for detector in ordered(score_paths, list(HISTOGRAM_FIGURES)):
        stem = histogram_stem(detector)
        data = load_scores(score_paths[detector])
        if data["detector"] != detector:
            raise ValueError(
                f"{score_paths[detector]}: holds detector {data['detector']!r}, "
                f"expected {detector!r}"
            )
        flagged = data["flagged"]
        threshold = float(np.min(data["scores"][flagged])) if flagged.any() else None
        fig = histogram_figure(
            data["scores"],
            data["flipped"],
            label=mpl_label(detector, DETECTOR_LABELS),
            ratio=data["ratio"],
            seed=seed,
            threshold=threshold,
        )
        caption = histogram_caption(detector, ratio=data["ratio"], seed=seed, n_seeds=n_seeds)
        written += save_figure(fig, out_dir, stem, caption=caption)
    return written
