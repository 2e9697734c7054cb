"""Tests for mislabel.report.histograms: Figures 5.1-5.4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from report_data_paper import score_file

from mislabel.report import render_histograms
from mislabel.report.histograms import histogram_figure


def test_histogram_figure_shows_every_count_and_labels_the_threshold_with_m() -> None:
    flipped = np.arange(300) < 15
    scores = np.where(flipped, 3.0, 0.0) + np.linspace(0, 1, 300)
    fig = histogram_figure(scores, flipped, label="Loss", ratio=0.05, seed=0, threshold=2.5, m=15)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] < 1  # a bin of one sample shows
    tallest = max(p.get_height() for c in ax.containers for p in c.patches)
    assert ax.get_ylim()[1] >= tallest  # and so does the tallest (no cap)
    assert ax.get_xlabel() == "anomaly score: Loss"
    assert ax.get_ylabel() == "training samples (log scale)"
    assert ax.get_title() == "Loss\nr = 0.05, seed 0\n15 of 300 labels flipped, 5.0%"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["clean (n = 285)", "mislabeled (n = 15)", "top-m threshold (m = 15)"]
    # Both histograms share the same bin edges.
    clean, mis = ax.containers[:2]
    assert [p.get_x() for p in clean.patches] == [p.get_x() for p in mis.patches]


def test_histogram_figure_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="equal length"):
        histogram_figure(np.zeros(3), np.zeros(4, bool), label="x", ratio=0.1, seed=0)


def test_render_histograms(tmp_path: Path) -> None:
    paths = {d: score_file(tmp_path / f"{d}.npz", d) for d in ("if_self", "loss", "aum")}
    out = tmp_path / "figs"
    written = render_histograms(paths, out, seed=0, n_seeds=3)
    assert [p.name for p in written] == [
        f"{stem}{ext}"
        for stem in ("fig_5_1", "fig_5_2", "fig_extra_aum")
        for ext in (".pdf", ".png", ".tex")
    ]
    tex = (out / "fig_5_2.tex").read_text()
    assert "\\includegraphics[width=0.7\\linewidth]{fig_5_2.pdf}" in tex
    assert (
        "Histogram of the anomaly score $I_{\\mathrm{up,loss}}(z, z)$ for mislabeled and clean "
        "training samples at noise ratio $r = 0.05$ ("
    ) in tex
    assert "seed 0, first of 3 seeds); counts on a log scale; the dashed line is the " in tex
    assert "top-$m$ threshold ($m = " in tex and "labels flipped, " in tex
    assert (out / "fig_5_1.png").read_bytes()[:4] == b"\x89PNG"
    # Reruns give identical bytes.
    before = {p.name: p.read_bytes() for p in written}
    render_histograms(paths, out, seed=0, n_seeds=3)
    assert {p.name: p.read_bytes() for p in written} == before
    one = render_histograms({"loss": paths["loss"]}, tmp_path / "one", seed=4)
    assert "; seed 4); counts on a log scale" in one[2].read_text()
    configured = render_histograms({"loss": paths["loss"]}, tmp_path / "r", seed=0, ratio=0.1)
    assert "noise ratio $r = 0.1$" in configured[2].read_text()


def test_render_histograms_checks_detector(tmp_path: Path) -> None:
    path = score_file(tmp_path / "s.npz", "loss")
    with pytest.raises(ValueError, match="holds detector 'loss'"):
        render_histograms({"if_self": path}, tmp_path, seed=0)
    with pytest.raises(ValueError, match="must match"):
        render_histograms({"a b": path}, tmp_path, seed=0)
