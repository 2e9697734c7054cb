"""Every figure fits its canvas, keeps its panels legible and spans its data.

- No text is cut off: matplotlib's tight bounding box of everything drawn lies within the
  canvas (`figure_style.texts_outside`); `save_figure` refuses a figure where it does not.
- At most `MAX_SERIES` labelled lines per panel, so that the std bands stay apart.
- Axes span the data, not more.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from report_data_every import detection_df, unlearning_df

from mislabel.registry import DETECTORS
from mislabel.report.curves import auc_panel, estimated_ratio_panel, series_groups, unlearners_panel
from mislabel.report.figure_style import (
    MAX_SERIES,
    mpl_label,
    new_figure,
    save_figure,
    texts_outside,
)
from mislabel.report.histograms import histogram_figure
from mislabel.report.labels import DETECTOR_LABELS


def series_per_panel(fig: Figure) -> list[int]:
    return [
        sum(1 for line in ax.get_lines() if not line.get_label().startswith("_")) for ax in fig.axes
    ]


@pytest.mark.parametrize("detector", list(DETECTORS))
def test_every_histogram_fits_its_canvas(detector):
    rng = np.random.default_rng(0)
    flipped = rng.random(500) < 0.055
    fig = histogram_figure(
        rng.normal(flipped * 2.0, 1.0),
        flipped,
        label=mpl_label(detector, DETECTOR_LABELS),
        ratio=0.055,
        seed=4,
        threshold=1.5,
    )
    assert texts_outside(fig) == []


def test_the_curve_panels_fit_and_show_at_most_five_series():
    det, unl = detection_df(), unlearning_df()
    for fig, _, _ in (auc_panel(det, "MNIST"), unlearners_panel(unl, "MNIST")):
        assert texts_outside(fig) == []
        counts = series_per_panel(fig)
        assert max(counts) <= MAX_SERIES, counts
    auc, _, _ = auc_panel(det, "MNIST")
    drawn = {line.get_label() for ax in auc.axes for line in ax.get_lines()}
    assert {mpl_label(d, DETECTOR_LABELS) for d in DETECTORS} <= drawn  # none left out


def test_series_groups_keep_twins_together_and_fill_panels_in_order():
    names = ["loss", "aum", "cleanlab", "if_self", "if_self_full", "if_train", "if_train_full"]
    assert series_groups(names, 4) == [
        ["loss", "aum", "cleanlab"],
        ["if_self", "if_self_full", "if_train", "if_train_full"],
    ]
    assert series_groups(["a", "b", "c"], 5) == [["a", "b", "c"]]


def test_the_estimated_ratio_axes_span_their_data():
    det = detection_df()
    fig, _, _ = estimated_ratio_panel(det, "MNIST")
    [ax] = fig.axes
    actual = det["flipped_ratio"].max()
    estimated = det["estimated_ratio"].max()
    left, right = ax.get_xlim()
    assert left == 0 and actual < right <= 1.1 * actual + 0.01
    assert ax.get_ylim()[1] >= estimated
    assert texts_outside(fig) == []


def test_a_clipped_title_is_found_and_not_saved(tmp_path):
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.set_title("a title far too long for a panel of four and a half inches, cut off " * 2)
    assert texts_outside(fig)
    with pytest.raises(ValueError, match="text outside the canvas"):
        save_figure(fig, tmp_path, "fig_clipped", caption="x")
    assert list(tmp_path.iterdir()) == []
