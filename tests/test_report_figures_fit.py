"""Every figure fits its canvas, prints legibly where it is placed, keeps its panels
legible and spans its data.

- No text is cut off: matplotlib's tight bounding box of everything drawn lies within the
  canvas (`figure_style.texts_outside`); `save_figure` refuses a figure where it does not.
- Every text prints at `MIN_PRINTED_PT` or more in the paper: its size in the saved PDF
  times the scale at which the figure's `.tex` places it (its `\\includegraphics` width
  over the PDF's MediaBox width), for every figure the workflow renders; the placed widths
  are those of the paper's page, as LaTeX lays it out.
- At most `MAX_SERIES` labelled lines per panel, so that the std bands stay apart; every
  panel titled, no two alike; no series left out.
- Axes span the data, not more.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from report_data_every import NEEDS_TEX, detection_df, render, unlearning_df
from report_data_paper import score_file

from mislabel.registry import DETECTORS
from mislabel.report import render_curves, render_extensions, render_histograms
from mislabel.report.curves import auc_panel, estimated_ratio_panel, series_groups, unlearners_panel
from mislabel.report.figure_style import (
    MAX_SERIES,
    MIN_PRINTED_PT,
    PLACED_WIDTH_IN,
    TEXT_WIDTH_IN,
    TEXT_WIDTH_PT,
    mpl_label,
    new_figure,
    placed_figure,
    save_figure,
    texts_outside,
)
from mislabel.report.histograms import histogram_figure
from mislabel.report.labels import DETECTOR_LABELS, UNLEARNER_LABELS
from mislabel.report.paper import compile_paper, paper_tex

REPO = Path(__file__).resolve().parents[1]
TINY_SUMMARIES = REPO / "tests" / "data" / "tiny_summaries"
TINY_TABLES = REPO / "tests" / "data" / "tiny_tables"


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


def test_the_curve_panels_fit_and_show_at_most_five_series_each_titled():
    det, unl = detection_df(), unlearning_df()
    for fig, _ in (auc_panel(det, "MNIST"), unlearners_panel(unl, "MNIST")):
        assert texts_outside(fig) == []
        panels = [ax for ax in fig.axes if ax.axison]
        counts = series_per_panel(fig)
        assert max(counts) <= MAX_SERIES, counts
        titles = [ax.get_title() for ax in panels]
        assert all(titles) and len(set(titles)) == len(titles), titles
        # a grid across the text, at most two panels a row
        assert fig.get_size_inches()[0] == pytest.approx(TEXT_WIDTH_IN)
        assert max(ax.get_subplotspec().colspan.stop for ax in panels) <= 2
    auc, _ = auc_panel(det, "MNIST")
    drawn = {line.get_label() for ax in auc.axes for line in ax.get_lines()}
    assert {mpl_label(d, DETECTOR_LABELS) for d in DETECTORS} <= drawn  # none left out
    acc, _ = unlearners_panel(unl, "MNIST")
    drawn = {line.get_label() for ax in acc.axes for line in ax.get_lines()}
    assert {mpl_label(m, UNLEARNER_LABELS) for m in set(unl["unlearner"])} <= drawn


def test_series_groups_keep_twins_together_and_fill_panels_in_order():
    names = ["loss", "aum", "cleanlab", "if_self", "if_self_full", "if_train", "if_train_full"]
    assert series_groups(names, 4) == [
        ["loss", "aum", "cleanlab"],
        ["if_self", "if_self_full", "if_train", "if_train_full"],
    ]
    assert series_groups(["a", "b", "c"], 5) == [["a", "b", "c"]]


def test_the_estimated_ratio_axes_span_their_data():
    det = detection_df()
    fig, _ = estimated_ratio_panel(det, "MNIST")
    [ax] = fig.axes
    actual = det["flipped_ratio"].max()
    estimated = det["estimated_ratio"].max()
    left, right = ax.get_xlim()
    assert left == 0 and actual < right <= 1.1 * actual + 0.01
    assert ax.get_ylim()[1] >= estimated
    assert texts_outside(fig) == []


def test_a_clipped_title_is_found_and_not_saved(tmp_path):
    fig = placed_figure("single", 3.0)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.set_title("a title far too long for a panel of four and a half inches, cut off " * 2)
    assert texts_outside(fig)
    with pytest.raises(ValueError, match="text outside the canvas"):
        save_figure(fig, tmp_path, "fig_clipped", caption="x")
    assert list(tmp_path.iterdir()) == []


def test_a_figure_as_wide_as_no_placement_is_not_saved(tmp_path):
    fig = new_figure(16.0, 3.2)
    fig.add_subplot().plot([0, 1], [0, 1])
    with pytest.raises(ValueError, match="placed nowhere"):
        save_figure(fig, tmp_path, "fig_wide", caption="x")
    assert list(tmp_path.iterdir()) == []


# Printed font sizes: the size of each text of a figure times the scale at which the paper
# prints the saved file (the `.tex`'s width over the PDF's).
_MEDIABOX_RE = re.compile(rb"/MediaBox \[\s*([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\s*\]")
_WIDTH_RE = re.compile(r"\\includegraphics\[width=([\d.]*)\\linewidth\]")


def pdf_width(pdf: Path) -> float:
    """The page width (inches) of a PDF, from its MediaBox."""
    x0, _, x1, _ = (float(v) for v in _MEDIABOX_RE.search(pdf.read_bytes()).groups())
    return (x1 - x0) / 72.0


def placed_width(tex: str) -> float:
    """The width (inches) at which a figure's `.tex` places its graphic on the paper's page."""
    [fraction] = _WIDTH_RE.findall(tex)
    return (float(fraction) if fraction else 1.0) * TEXT_WIDTH_IN


def smallest_font(fig: Figure) -> float:
    """The size (points) of the smallest text drawn in `fig` (titles, labels, tick labels,
    legends, notes)."""
    fig.canvas.draw()
    sizes = [
        text.get_fontsize()
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]
    assert sizes, "no text drawn"
    return min(sizes)


@pytest.fixture
def fonts(monkeypatch) -> dict[str, float]:
    """stem -> smallest font size of each figure saved while the test runs."""
    from mislabel.report import curves, histograms
    from mislabel.report import render as extensions

    found: dict[str, float] = {}

    def recording(fig, out_dir, stem, **kwargs):
        found[stem] = smallest_font(fig)
        return save_figure(fig, out_dir, stem, **kwargs)

    for module in (curves, histograms, extensions):
        monkeypatch.setattr(module, "save_figure", recording)
    return found


def check_printed(out: Path, fonts: dict[str, float]) -> dict[str, tuple[float, float]]:
    """stem -> (scale, smallest printed size in points) of every figure saved in `out`."""
    found = {}
    for pdf in sorted(out.glob("fig_*.pdf")):
        scale = placed_width(pdf.with_suffix(".tex").read_text()) / pdf_width(pdf)
        found[pdf.stem] = (scale, scale * fonts[pdf.stem])
    small = {stem: v for stem, v in found.items() if v[1] < MIN_PRINTED_PT}
    assert small == {}, f"texts printed below {MIN_PRINTED_PT} pt: (scale, pt) {small}"
    assert all(scale == pytest.approx(1.0, abs=0.01) for scale, _ in found.values()), found
    return found


def test_the_printed_size_is_read_from_the_files(tmp_path):
    fig = new_figure(2 * TEXT_WIDTH_IN, 3.0)  # built twice as wide as it is placed
    ax = fig.add_subplot()
    ax.set_title("ten point title", fontsize=10)
    ax.set_xlabel("eight", fontsize=8)
    ax.tick_params(labelsize=9)
    fig.savefig(tmp_path / "fig_x.pdf")
    (tmp_path / "fig_x.tex").write_text("\\includegraphics[width=\\linewidth]{fig_x.pdf}")
    assert pdf_width(tmp_path / "fig_x.pdf") == pytest.approx(2 * TEXT_WIDTH_IN)
    with pytest.raises(AssertionError, match=r"fig_x.*0\.5.*4\.0"):
        check_printed(tmp_path, {"fig_x": smallest_font(fig)})


def test_every_figure_of_the_extensions_prints_at_scale_one_and_seven_points(tmp_path, fonts):
    out = tmp_path / "every"
    render(out)
    found = check_printed(out, fonts)
    assert {"fig_ext_auc_vs_ratio", "fig_ext_unlearners_vs_ratio"} <= set(found)


def test_every_figure_of_the_tiny_run_prints_at_scale_one_and_seven_points(tmp_path, fonts):
    """The tiny run's figures, rendered from its summaries (its histograms from synthetic
    scores of the same detectors): each places its graphic as the reference run's `.tex`
    does, and prints legibly."""
    det, unl = TINY_SUMMARIES / "detection.csv", TINY_SUMMARIES / "unlearning.csv"
    render_extensions(det, unl, TINY_SUMMARIES / "loo_validation.csv", tmp_path, dataset="mnist")
    render_curves(det, unl, tmp_path)
    detectors = ["loss", "if_self", "if_train", "if_train_minus_z", "aum", "cleanlab"]
    detectors.append("if_self_full")
    scores = {d: score_file(tmp_path / f"{d}.npz", d, ratio=0.3, n=128) for d in detectors}
    render_histograms(scores, tmp_path, seed=0, n_seeds=2, ratio=0.3)
    reference = sorted(TINY_TABLES.glob("fig_*.tex"))
    assert len(reference) == 12
    for tex in reference:
        rendered = (tmp_path / tex.name).read_text()
        assert _WIDTH_RE.findall(rendered) == _WIDTH_RE.findall(tex.read_text()), tex.name
        if not tex.stem.startswith(("fig_5_", "fig_extra_")):  # from the same summaries
            assert rendered == tex.read_text(), tex.name
    assert set(check_printed(tmp_path, fonts)) == {tex.stem for tex in reference}


def test_the_placed_widths_fit_the_papers_text():
    assert max(PLACED_WIDTH_IN.values()) == pytest.approx(TEXT_WIDTH_IN)
    assert "\\documentclass[11pt]{article}" in paper_tex(tables=[], figures=[], rulegraph=None)


@NEEDS_TEX
def test_the_text_width_is_the_one_latex_lays_out(tmp_path):
    preamble = paper_tex(tables=[], figures=[], rulegraph=None).split("\\begin{document}")[0]
    tex = tmp_path / "width.tex"
    body = "\\begin{document}\\typeout{WIDTH=\\the\\textwidth}x\\end{document}\n"
    tex.write_text(preamble + body)
    assert compile_paper(tex, tmp_path / "width.log")
    assert f"WIDTH={TEXT_WIDTH_PT:g}.0pt" in (tmp_path / "width.log").read_text()
