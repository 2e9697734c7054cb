"""Figures 5.1-5.4: histograms of each detector's anomaly scores, mislabeled vs clean."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from mislabel.report.cells import LATEX
from mislabel.report.figure_style import mpl_label, placed_figure, save_figure, with_fonts
from mislabel.report.labels import DETECTOR_LABELS, label_of, ordered
from mislabel.workflow.artifacts import HISTOGRAM_FIGURES, histogram_stem

SCORE_KEYS = ("scores", "flipped", "flagged", "detector", "ratio", "m")
HIST_BINS = 50
CLEAN_COLOR = "tab:blue"
MISLABELED_COLOR = "tab:red"


def flipped_phrase(flipped: np.ndarray) -> str:
    """``28 of 128 labels flipped, 21.9%``: the realised noise, beside the configured r."""
    k, n = int(np.sum(flipped)), int(np.size(flipped))
    return f"{k} of {n} labels flipped, {100 * k / max(n, 1):.1f}%"


@with_fonts
def histogram_figure(
    scores: np.ndarray,
    flipped: np.ndarray,
    *,
    label: str,
    ratio: float,
    seed: int,
    threshold: float | None = None,
    m: int | None = None,
    bins: int = HIST_BINS,
) -> Figure:
    """Histogram of anomaly scores, mislabeled vs clean, on shared bins, with a log-scale
    count axis so that every bin shows, however tall.

    Args:
      scores: (n,) anomaly scores; non-finite values are left out.
      flipped: (n,) bool, True for mislabeled samples.
      label: detector name for the axis label and title (mathtext allowed).
      ratio: the configured noise ratio r (the realised fraction is stated beside it).
      threshold, m: the top-m threshold, drawn as a dashed vertical line labelled with m.
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
    fig = placed_figure("single", 2.8)
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
        what = "top-m threshold" if m is None else f"top-m threshold (m = {m})"
        ax.axvline(threshold, color="black", linestyle="--", linewidth=0.8, label=what)
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.7)  # a bin of one sample shows
    ax.set_xlabel(f"anomaly score: {label}")
    ax.set_ylabel("training samples (log scale)")
    ax.set_title(f"{label}\nr = {ratio:g}, seed {seed}\n{flipped_phrase(flipped)}")
    ax.legend(loc="upper right")
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


def histogram_caption(
    detector: str, *, ratio: float, seed: int, n_seeds: int, flipped: np.ndarray, m: int
) -> str:
    """The paper's caption for a score histogram (LaTeX)."""
    seeds = f"seed {seed}" + (f", first of {n_seeds} seeds" if n_seeds > 1 else "")
    flips = flipped_phrase(flipped).replace("%", r"\%")
    return (
        f"Histogram of the anomaly score {label_of(detector, DETECTOR_LABELS, LATEX)} for "
        f"mislabeled and clean training samples at noise ratio $r = {ratio:g}$ "
        f"({flips}; {seeds}); counts on a log "
        f"scale; the dashed line is the top-$m$ threshold ($m = {m}$)."
    )


def render_histograms(
    score_paths: Mapping[str, str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    seed: int,
    n_seeds: int = 1,
    ratio: float | None = None,
) -> list[Path]:
    """Figures 5.1-5.4 (+ fig_extra_<name> for other detectors) from score files.

    Args:
      score_paths: detector name -> score `.npz` path.
      seed: the seed the scores come from (named in the caption).
      n_seeds: how many seeds the run has; captions say "first of N seeds" when > 1.
      ratio: the configured noise ratio of the scores (default: the ratio their budget
        assumed, from the score file).

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
        r = data["ratio"] if ratio is None else float(ratio)
        fig = histogram_figure(
            data["scores"],
            data["flipped"],
            label=mpl_label(detector, DETECTOR_LABELS),
            ratio=r,
            seed=seed,
            threshold=threshold,
            m=data["m"],
        )
        caption = histogram_caption(
            detector, ratio=r, seed=seed, n_seeds=n_seeds, flipped=data["flipped"], m=data["m"]
        )
        written += save_figure(fig, out_dir, stem, caption=caption)
    return written
