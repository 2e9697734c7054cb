"""Figures 5.1-5.4 (anomaly-score histograms) and extra curves, drawn on Matplotlib's Agg canvas.

Figures are built by pure helpers (`histogram_figure`, `accuracy_figure`, `auc_figure`) that
return a `matplotlib.figure.Figure` without touching pyplot's global state; `save_figure`
writes `.pdf`, `.png` and a `.tex` figure environment next to each other, atomically and with
fixed metadata so reruns give identical bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mislabel.artifacts import HISTOGRAM_FIGURES, histogram_stem
from mislabel.files import atomic
from mislabel.report.tables import (
    DETECTION_COLUMNS,
    DETECTOR_LABELS,
    FORGET_LABELS,
    LATEX,
    METHOD_LABELS,
    TARGET_LABELS,
    UNLEARNING_COLUMNS,
    dataset_label,
    label_of,
    load_results,
    ordered,
    paper_detection,
    paper_unlearning,
    seed_phrase,
    template_env,
)
from mislabel.report.tables import n_seeds as count_seeds

SCORE_KEYS = ("scores", "flipped", "flagged", "detector", "ratio", "m")
Y_CAP = 50
PNG_DPI = 150
HIST_BINS = 50
CLEAN_COLOR = "tab:blue"
MISLABELED_COLOR = "tab:red"
PDF_METADATA: dict[str, Any] = {"CreationDate": None}
PNG_METADATA: dict[str, Any] = {"Software": None}


def new_figure(
    width: float = 4.5,
    height: float = 3.2,
    ncols: int = 1,
    *,
    nrows: int = 1,
    extra_width: float = 0.0,
) -> Figure:
    """A constrained-layout figure on an Agg canvas (no pyplot, no global state).

    `width` and `height` are per panel (inches); `extra_width` is added once, e.g. for a
    legend outside the axes.
    """
    fig = Figure(figsize=(width * ncols + extra_width, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def placeholder_figure(message: str) -> Figure:
    """A figure that only says `message` (for an output whose data was not produced)."""
    fig = new_figure()
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    return fig


def add_legend(fig: Figure, ax: Axes, *, outside: bool = False) -> None:
    """The legend of `ax`: inside at the lower left, or at the right of the whole figure."""
    if outside:
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper", fontsize="small")
    else:
        ax.legend(loc="lower left", fontsize="small")


def mpl_label(name: str, labels: Mapping[str, tuple[str, str]]) -> str:
    """Matplotlib label: the LaTeX label (mathtext) if known, else the raw name, `$` escaped."""
    return labels[name][0] if name in labels else name.replace("$", r"\$")


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
    ax.set_title(f"{label}, noise ratio r = {ratio:g} (seed {seed})")
    ax.legend(loc="upper right", fontsize="small")
    return fig


def figure_tex(*, graphic: str, caption: str, label: str, width: float = 0.7) -> str:
    """A LaTeX figure environment including `graphic` (a path relative to the .tex)."""
    template = template_env().get_template("figure.tex.j2")
    return template.render(graphic=graphic, caption=caption, label=label, width=width)


def save_figure(
    fig: Figure,
    out_dir: str | os.PathLike,
    stem: str,
    *,
    caption: str,
    width: float = 0.7,
) -> list[Path]:
    """Write `<stem>.pdf`, `<stem>.png` and `<stem>.tex` (figure environment) into `out_dir`."""
    out = Path(out_dir)
    pdf, png, tex = (out / f"{stem}{ext}" for ext in (".pdf", ".png", ".tex"))
    with atomic.atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf", metadata=PDF_METADATA)
    with atomic.atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
    label = "fig:" + stem.removeprefix("fig_").replace("_", "-")
    atomic.write_text(tex, figure_tex(graphic=pdf.name, caption=caption, label=label, width=width))
    return [pdf, png, tex]


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


def curve_stats(df: pd.DataFrame, by: str, value: str) -> pd.DataFrame:
    """Mean, sample std (0 for one seed) and count of `value` per (`by`, ratio)."""
    stats = df.groupby([by, "ratio"])[value].agg(["mean", "std", "count"]).reset_index()
    stats["std"] = stats["std"].fillna(0.0)
    return stats.sort_values([by, "ratio"]).reset_index(drop=True)


def plot_curves(
    ax: Axes,
    stats: pd.DataFrame,
    by: str,
    names: Sequence[str],
    labels: Mapping[str, tuple[str, str]],
    *,
    scale: float = 1.0,
    colors: Mapping[str, str] | None = None,
    linestyles: Mapping[str, str] | None = None,
) -> None:
    """One mean line with a shaded +-std band per name, in the order of `names`."""
    for i, name in enumerate(names):
        rows = stats[stats[by] == name]
        if rows.empty:
            continue
        color = (colors or {}).get(name, f"C{i % 10}")
        x = rows["ratio"].to_numpy()
        mean = scale * rows["mean"].to_numpy()
        std = scale * rows["std"].to_numpy()
        ax.plot(
            x,
            mean,
            marker="o",
            markersize=3,
            color=color,
            linestyle=(linestyles or {}).get(name, "-"),
            label=mpl_label(name, labels),
        )
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)


def band_phrase(k: int) -> str:
    """Caption phrase for curves: mean line and +-std band over k seeds."""
    if k > 1:
        return f"line: mean, band: $\\pm$ std over {k} seeds"
    return seed_phrase(k)


def _target_title(target: str) -> str:
    if target in FORGET_LABELS:
        return FORGET_LABELS[target][0]
    return "forget " + target.replace("$", r"\$")


def accuracy_figure(
    unl: pd.DataFrame,
    *,
    colors: Mapping[str, str] | None = None,
    linestyles: Mapping[str, str] | None = None,
    legend_outside: bool = False,
    max_cols: int | None = None,
) -> Figure:
    """Test accuracy (%) vs noise ratio, one panel per forget set, pretrained in each.

    Args:
      colors, linestyles: per method; default one color per method, solid lines.
      legend_outside: put the legend at the right of the figure (for many methods), or in
        the first unused grid cell if there is one.
      max_cols: wrap the panels into rows of at most this many; None: one row.
    """
    targets = [t for t in ordered(unl["target"], list(TARGET_LABELS)) if t != "none"]
    methods = ordered(unl["method"], list(METHOD_LABELS))
    colors = colors or {m: f"C{i % 10}" for i, m in enumerate(methods)}
    pretrained = (unl["method"] == "pretrained") & (unl["target"] == "none")
    panels = targets or ["none"]
    ncols = len(panels) if max_cols is None else max(1, min(max_cols, len(panels)))
    nrows = -(-len(panels) // ncols)
    spare = nrows * ncols > len(panels)
    fig = new_figure(
        ncols=ncols, nrows=nrows, extra_width=2.5 if legend_outside and not spare else 0.0
    )
    grid = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    axes = grid.ravel()[: len(panels)]
    for ax in grid.ravel()[len(panels) :]:
        ax.set_axis_off()
    for ax, target in zip(axes, panels, strict=True):
        rows = unl[pretrained | (unl["target"] == target)]
        stats = curve_stats(rows, "method", "test_accuracy")
        plot_curves(
            ax,
            stats,
            "method",
            methods,
            METHOD_LABELS,
            scale=100.0,
            colors=colors,
            linestyles=linestyles,
        )
        ax.set_title(_target_title(target) if target != "none" else "pre-trained only")
        ax.set_xlabel("noise ratio r")
    for row in grid:
        row[0].set_ylabel("test accuracy (%)")
    if legend_outside and spare:
        handles, labels = axes[0].get_legend_handles_labels()
        grid.ravel()[-1].legend(handles, labels, loc="center", fontsize="small")
    else:
        add_legend(fig, axes[0], outside=legend_outside)
    return fig


def auc_figure(
    det: pd.DataFrame,
    *,
    colors: Mapping[str, str] | None = None,
    linestyles: Mapping[str, str] | None = None,
    legend_outside: bool = False,
    order: Sequence[str] = tuple(DETECTOR_LABELS),
) -> Figure:
    """Detection ROC AUC vs noise ratio, one line per detector (known ones in `order`),
    chance level dashed."""
    detectors = ordered(det["detector"], order)
    fig = new_figure(extra_width=2.5 if legend_outside else 0.0)
    ax = fig.add_subplot()
    plot_curves(
        ax,
        curve_stats(det, "detector", "roc_auc"),
        "detector",
        detectors,
        DETECTOR_LABELS,
        colors=colors,
        linestyles=linestyles,
    )
    ax.axhline(0.5, color="gray", linestyle="--", linewidth=0.8, label="chance")
    ax.set_xlabel("noise ratio r")
    ax.set_ylabel("ROC AUC")
    add_legend(fig, ax, outside=legend_outside)
    return fig


def render_curves(
    detection_csv: str | os.PathLike,
    unlearning_csv: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    dataset: str = "mnist",
) -> list[Path]:
    """Extra figures: `fig_accuracy_vs_ratio` and `fig_auc_vs_ratio` (.pdf, .png, .tex each).

    Like Tables 5.1-5.3 they show only the paper's detectors, methods and forget sets; see
    `mislabel.report.extensions` for the rest.
    """
    det = paper_detection(load_results(detection_csv, DETECTION_COLUMNS, dataset=dataset))
    unl = paper_unlearning(load_results(unlearning_csv, UNLEARNING_COLUMNS, dataset=dataset))
    name = dataset_label(dataset)
    acc_caption = (
        rf"Test accuracy (\%) on {name} versus noise ratio $r$ for each unlearning method, one "
        rf"panel per forget set, the pre-trained model in each "
        f"({band_phrase(count_seeds(unl))}). Not in the paper."
    )
    auc_caption = (
        f"Detection ROC AUC on {name} versus noise ratio $r$ for each detector; the dashed "
        f"line marks chance ({band_phrase(count_seeds(det))}). Not in the paper."
    )
    return save_figure(
        accuracy_figure(unl), out_dir, "fig_accuracy_vs_ratio", caption=acc_caption, width=0.95
    ) + save_figure(auc_figure(det), out_dir, "fig_auc_vs_ratio", caption=auc_caption)
