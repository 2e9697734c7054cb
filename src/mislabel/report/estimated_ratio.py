"""The estimated against the actual fraction of mislabeled samples (beyond the paper): how
well the detectors that estimate the noise ratio, and so the budget, estimate it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mislabel.report.captions import NOT_RUN, seed_phrase, with_note
from mislabel.report.figure_style import mpl_label, new_figure, placeholder_figure
from mislabel.report.frames import estimators, has_values, n_seeds, numeric
from mislabel.report.labels import DETECTOR_LABELS


def estimated_ratio_figure(det: pd.DataFrame, names: Sequence[str]) -> Figure:
    """Estimated vs actual flipped fraction per nominal ratio (mean +- std), y = x dashed."""
    x_col = "flipped_ratio" if has_values(det, "flipped_ratio") else "ratio"
    fig = new_figure(height=4.0, width=4.5)
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
        ax.errorbar(
            x,
            y,
            xerr=xerr,
            yerr=yerr,
            marker="o",
            markersize=3,
            capsize=2,
            color=f"C{i % 10}",
            label=mpl_label(name, DETECTOR_LABELS),
        )
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
    ax.set_ylabel("estimated fraction of mislabeled samples")
    ax.legend(loc="upper left", fontsize="small")
    return fig


def estimated_ratio_panel(det: pd.DataFrame, name: str) -> tuple[Figure, str, float]:
    """The figure, its caption and width (fraction of the line), or a placeholder if no
    detector estimated the ratio."""
    names = estimators(det)
    if not names:
        caption = f"Estimated versus actual fraction of mislabeled samples on {name}."
        return placeholder_figure(f"Budget estimation {NOT_RUN}."), with_note(caption, True), 0.6
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
    return estimated_ratio_figure(det, names), caption, 0.6
