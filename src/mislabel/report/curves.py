"""Curves against the noise ratio: test accuracy per unlearner and detection ROC AUC
per detector (mean line, +-std band over seeds).

The paper's results as curves (`render_curves`: its detectors, unlearners and forget sets) and
the same curves for every name (`auc_panel`, `unlearners_panel`, beyond the paper), where a
full-network variant is drawn dashed in its last-layer twin's color; and, beyond the paper,
the estimated against the actual fraction of mislabeled samples (`estimated_ratio_panel`): how
well the detectors that estimate the noise ratio, and so the budget, estimate it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mislabel.registry import FULL_SUFFIX
from mislabel.report.figure_style import (
    FONT_RC,
    MAX_SERIES,
    PANEL_HEIGHT_IN,
    PLACED_WIDTH_IN,
    add_legend,
    grid_shape,
    mpl_label,
    placed_figure,
    placeholder_figure,
    save_figure,
    with_fonts,
)
from mislabel.report.frames import (
    DETECTION_COLUMNS,
    UNLEARNING_COLUMNS,
    estimators,
    has_values,
    is_pretrained,
    load_results,
    n_seeds,
    numeric,
    paper_detection,
    paper_unlearning,
)
from mislabel.report.labels import (
    DETECTOR_LABELS,
    EXT_DETECTORS,
    FORGET_LABELS,
    NOT_RUN,
    TARGET_LABELS,
    UNLEARNER_LABELS,
    band_phrase,
    dataset_label,
    ordered,
    seed_phrase,
    with_note,
)
from mislabel.workflow.artifacts import CURVES

TWINS_DASHED = "a dashed line is the full-network variant of the solid line of the same color"


MARKERS = ("o", "s", "^", "D", "v", "P", "X")


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
    """One mean line with a shaded +-std band per name, in the order of `names`; each name
    has its own hollow marker, drawn smaller than the one before, so that a line lying on
    another still shows."""
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
            marker=MARKERS[i % len(MARKERS)],
            markersize=max(7.0 - 0.8 * i, 3.0),
            markerfacecolor="none",
            color=color,
            linestyle=(linestyles or {}).get(name, "-"),
            label=mpl_label(name, labels),
        )
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)


def twin_styles(names: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Colors and line styles: a full-network variant gets its last-layer twin's color,
    dashed."""
    bases = list(dict.fromkeys(name.removesuffix(FULL_SUFFIX) for name in names))
    colors = {n: f"C{bases.index(n.removesuffix(FULL_SUFFIX)) % 10}" for n in names}
    styles = {n: "--" if n.endswith(FULL_SUFFIX) else "-" for n in names}
    return colors, styles


def series_groups(names: Sequence[str], capacity: int) -> list[list[str]]:
    """`names` in order, cut into panels of at most `capacity` series each; a full-network
    variant stays in the panel of its last-layer twin."""
    units: list[list[str]] = []
    for name in names:
        base = name.removesuffix(FULL_SUFFIX)
        twin = next((u for u in units if u[0].removesuffix(FULL_SUFFIX) == base), None)
        if twin is None:
            units.append([name])
        else:
            twin.append(name)
    groups: list[list[str]] = [[]]
    for unit in units:
        if groups[-1] and len(groups[-1]) + len(unit) > capacity:
            groups.append([])
        groups[-1].extend(unit)
    return groups


def _target_title(target: str) -> str:
    if target in FORGET_LABELS:
        return FORGET_LABELS[target][0]
    return "forget " + target.replace("$", r"\$")


def group_title(names: Sequence[str], labels: Mapping[str, tuple[str, str]], ncols: int) -> str:
    """The title of a panel showing `names`: their labels (a full-network variant under its
    last-layer twin's), comma-separated, wrapped to the width of one of `ncols` panels
    across the text."""
    bases = list(dict.fromkeys(name.removesuffix(FULL_SUFFIX) for name in names))
    shown = [mpl_label(base, labels) for base in bases]
    plain = [labels[b][1] if b in labels else b for b in bases]
    # characters of a line: the panel's width over an average glyph (0.6 em)
    width = int(72 * PLACED_WIDTH_IN["text"] / ncols / (0.6 * FONT_RC["axes.titlesize"]))
    lines: list[tuple[list[str], int]] = []
    for label, text in zip(shown, plain, strict=True):
        if lines and lines[-1][1] + len(text) + 2 <= width:
            lines[-1][0].append(label)
            lines[-1] = (lines[-1][0], lines[-1][1] + len(text) + 2)
        else:
            lines.append(([label], len(text)))
    return ",\n".join(", ".join(line) for line, _ in lines)


def _grid(n_panels: int, placement: str, *, sharey: bool = True) -> tuple[Figure, list[Axes]]:
    """A figure of `n_panels` panels at `placement` (a grid of `GRID_COLUMNS` at the text
    width), the spare cells of the grid left empty (axes off); the panels first."""
    rows, cols = grid_shape(n_panels) if placement == "text" else (1, 1)
    fig = placed_figure(placement, PANEL_HEIGHT_IN * rows + 0.9)
    axes = list(fig.subplots(rows, cols, sharey=sharey, squeeze=False).ravel())
    for spare in axes[n_panels:]:
        spare.set_axis_off()
    return fig, axes


def _finish(fig: Figure, axes: Sequence[Axes], n_panels: int, ncols: int, ylabel: str) -> None:
    """Axis labels (y on the first panel of each row), then one legend: in the first
    spare cell of the grid, or below it."""
    for i, ax in enumerate(axes[:n_panels]):
        ax.set_xlabel("noise ratio r")
        if i % ncols == 0:
            ax.set_ylabel(ylabel)
    add_legend(fig, spare=axes[n_panels] if len(axes) > n_panels else None)


@with_fonts
def accuracy_figure(
    unl: pd.DataFrame,
    *,
    colors: Mapping[str, str] | None = None,
    linestyles: Mapping[str, str] | None = None,
    groups: Sequence[Sequence[str]] | None = None,
) -> Figure:
    """Test accuracy (%) vs noise ratio, the pre-trained model in each panel: one panel per
    forget set, or, with `groups`, one per forget set and group, forget set by forget set;
    one panel at the single width, more in a grid across the text, one legend.

    Args:
      colors, linestyles: per unlearner; default one color per unlearner, solid lines.
      groups: the unlearners of each panel of a forget set (none: every unlearner in
        each panel).
    """
    targets = [t for t in ordered(unl["target"], list(TARGET_LABELS)) if t != "none"]
    unlearners = ordered(unl["unlearner"], list(UNLEARNER_LABELS))
    colors = colors or {m: f"C{i % 10}" for i, m in enumerate(unlearners)}
    pretrained = is_pretrained(unl)
    columns = [list(g) for g in groups] if groups else [unlearners]
    cells = [(target, column) for target in targets or ["none"] for column in columns]
    placement = "text" if len(cells) > 1 else "single"
    fig, axes = _grid(len(cells), placement)
    ncols = grid_shape(len(cells))[1] if placement == "text" else 1
    for ax, (target, column) in zip(axes, cells, strict=False):
        rows = unl[pretrained | (unl["target"] == target)]
        plot_curves(
            ax,
            curve_stats(rows, "unlearner", "test_accuracy"),
            "unlearner",
            [m for m in unlearners if m == "pretrained" or m in column],
            UNLEARNER_LABELS,
            scale=100.0,
            colors=colors,
            linestyles=linestyles,
        )
        title = _target_title(target) if target != "none" else "pre-trained only"
        if len(columns) > 1:
            title += ":\n" + group_title(column, UNLEARNER_LABELS, ncols)
        ax.set_title(title)
    _finish(fig, axes, len(cells), ncols, "test accuracy (%)")
    return fig


@with_fonts
def auc_figure(
    det: pd.DataFrame,
    *,
    colors: Mapping[str, str] | None = None,
    linestyles: Mapping[str, str] | None = None,
    order: Sequence[str] = tuple(DETECTOR_LABELS),
    groups: Sequence[Sequence[str]] | None = None,
) -> Figure:
    """Detection ROC AUC vs noise ratio, one line per detector (known ones in `order`),
    chance level dashed; one panel (at the single width) per group of detectors (none: one
    panel), more than one in a grid across the text; one legend."""
    detectors = ordered(det["detector"], order)
    panels = [[d for d in g if d in detectors] for g in groups] if groups else [detectors]
    placement = "text" if len(panels) > 1 else "single"
    fig, axes = _grid(len(panels), placement)
    ncols = grid_shape(len(panels))[1] if placement == "text" else 1
    stats = curve_stats(det, "detector", "roc_auc")
    for ax, shown in zip(axes, panels, strict=False):
        plot_curves(
            ax,
            stats,
            "detector",
            shown,
            DETECTOR_LABELS,
            colors=colors,
            linestyles=linestyles,
        )
        ax.axhline(0.5, color="gray", linestyle="--", linewidth=0.8, label="chance")
        ax.set_title(group_title(shown, DETECTOR_LABELS, ncols) if groups else "detection")
    _finish(fig, axes, len(panels), ncols, "ROC AUC")
    return fig


def accuracy_caption(name: str, seeds: int, *, every: bool = False) -> str:
    """Caption of an accuracy figure on dataset `name`; `every`: all unlearners, twins dashed."""
    return (
        rf"Test accuracy (\%) on {name} versus noise ratio $r$ for "
        f"{'every' if every else 'each'} unlearning method, one panel per forget set, the "
        "pre-trained model in each"
        + (f"; {TWINS_DASHED}" if every else "")
        + f" ({band_phrase(seeds)})."
    )


def auc_caption(name: str, seeds: int, *, every: bool = False) -> str:
    """Caption of an AUC figure on dataset `name`; `every`: all detectors, twins dashed."""
    chance = f"{TWINS_DASHED}, the gray dashed line" if every else "the dashed line"
    return (
        f"Detection ROC AUC on {name} versus noise ratio $r$ for "
        f"{'every' if every else 'each'} detector; {chance} marks chance "
        f"({band_phrase(seeds)})."
    )


def render_curves(
    detection_csv: str | os.PathLike,
    unlearning_csv: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    dataset: str = "mnist",
) -> list[Path]:
    """Extra figures: `fig_accuracy_vs_ratio` and `fig_auc_vs_ratio` (.pdf, .png, .tex each).

    Like Tables 5.1-5.3 they show only the paper's detectors, unlearners and forget sets; see
    `auc_panel` and `unlearners_panel` for every name.
    """
    det = paper_detection(load_results(detection_csv, DETECTION_COLUMNS, dataset=dataset))
    unl = paper_unlearning(load_results(unlearning_csv, UNLEARNING_COLUMNS, dataset=dataset))
    name = dataset_label(dataset)
    accuracy_stem, auc_stem = CURVES
    return save_figure(
        accuracy_figure(unl),
        out_dir,
        accuracy_stem,
        caption=accuracy_caption(name, n_seeds(unl)) + " Not in the paper.",
    ) + save_figure(
        auc_figure(det),
        out_dir,
        auc_stem,
        caption=auc_caption(name, n_seeds(det)) + " Not in the paper.",
    )


def auc_panel(det: pd.DataFrame, name: str) -> tuple[Figure, str]:
    """ROC AUC of every detector: figure and caption. The detectors are split into panels
    of at most `MAX_SERIES` lines, chance included."""
    detectors = ordered(det["detector"], EXT_DETECTORS)
    colors, styles = twin_styles(detectors)
    fig = auc_figure(
        det,
        colors=colors,
        linestyles=styles,
        order=EXT_DETECTORS,
        groups=series_groups(detectors, MAX_SERIES - 1),
    )
    return fig, auc_caption(name, n_seeds(det), every=True)


def unlearners_panel(unl: pd.DataFrame, name: str) -> tuple[Figure, str]:
    """Test accuracy of every unlearner: figure and caption. The unlearners of each forget
    set are split into panels of at most `MAX_SERIES` lines, the pre-trained model
    included."""
    unlearners = ordered(unl["unlearner"], list(UNLEARNER_LABELS))
    colors, styles = twin_styles(unlearners)
    unlearners = [m for m in unlearners if m != "pretrained"]
    fig = accuracy_figure(
        unl,
        colors=colors,
        linestyles=styles,
        groups=series_groups(unlearners, MAX_SERIES - 1),
    )
    return fig, accuracy_caption(name, n_seeds(unl), every=True)


@with_fonts
def estimated_ratio_figure(det: pd.DataFrame, names: Sequence[str]) -> Figure:
    """Estimated vs actual flipped fraction per nominal ratio (mean +- std), y = x dashed."""
    x_col = "flipped_ratio" if has_values(det, "flipped_ratio") else "ratio"
    fig = placed_figure("single", 3.0)
    ax = fig.add_subplot()
    right = top = 0.0
    for i, name in enumerate(names):
        rows = det[det["detector"] == name]
        points = pd.DataFrame(
            {"ratio": rows["ratio"], "x": numeric(rows, x_col), "y": rows["estimated_ratio"]}
        )
        stats = points.groupby("ratio")[["x", "y"]].agg(["mean", "std"]).fillna(0.0)
        x, y = stats[("x", "mean")], stats[("y", "mean")]
        xerr, yerr = stats[("x", "std")], stats[("y", "std")]
        style = {
            "marker": MARKERS[i % len(MARKERS)],
            "markersize": 4,
            "color": f"C{i % 10}",
            "label": mpl_label(name, DETECTOR_LABELS),
        }
        if (xerr > 0).any() or (yerr > 0).any():
            ax.errorbar(x, y, xerr=xerr, yerr=yerr, capsize=2, **style)
        else:  # one seed: no bars to draw, so no error-bar symbol in the legend either
            ax.plot(x, y, **style)
        right = max(right, float(np.nanmax(x + xerr)))
        top = max(top, float(np.nanmax(y + yerr)))
    # Each axis spans its own data: the actual fractions stop at the largest ratio, while
    # an estimate may run far above it.
    right = 1.05 * right if right > 0 else 1.0
    top = 1.05 * max(top, right) if top > 0 else right
    ax.plot([0, right], [0, right], color="gray", linestyle="--", linewidth=0.8, label="y = x")
    ax.set_xlim(0, right)
    ax.set_ylim(0, top)
    ax.set_xlabel(
        "actual fraction of flipped labels" if x_col == "flipped_ratio" else "noise ratio r"
    )
    ax.set_ylabel("estimated fraction mislabeled")
    ax.set_title("the noise ratio, estimated")
    ax.legend(loc="upper left")
    return fig


def estimated_ratio_panel(det: pd.DataFrame, name: str) -> tuple[Figure, str]:
    """The figure and its caption, or a placeholder if no detector estimated the ratio."""
    names = estimators(det)
    if not names:
        caption = f"Estimated versus actual fraction of mislabeled samples on {name}."
        return placeholder_figure(f"Budget estimation {NOT_RUN}."), with_note(caption, True)
    against = (
        "the actual fraction of flipped labels"
        if has_values(det, "flipped_ratio")
        else "the nominal noise ratio (the actual fraction was not recorded)"
    )
    caption = (
        "Fraction of mislabeled samples estimated by each detector that can estimate it, "
        f"versus {against}, on {name}; one point per nominal noise ratio, bars: std over "
        "seeds, the dashed line is $y = x$ "
        f"({seed_phrase(n_seeds(det[det['detector'].isin(names)]))})."
    )
    return estimated_ratio_figure(det, names), caption
