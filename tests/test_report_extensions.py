"""Tests for mislabel.report.render: every file beyond the paper is written, run or not."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_data_every import (
    NEEDS_TEX,
    NOT_RUN,
    detection_df,
    loo_df,
    pm,
    render,
    rows_of,
    spanning,
    sparse_data,
    texts,
    unlearning_df,
)

from mislabel.report import write_paper_tex
from mislabel.report.paper import compile_paper
from mislabel.workflow.artifacts import EXTENSION_FIGURES, EXTENSION_FILES, EXTENSION_TABLES


@pytest.fixture
def sparse(tmp_path: Path) -> tuple[list[Path], dict[str, str]]:
    """Render with only the paper's detectors and unlearners, no new columns, no LOO."""
    written = render(tmp_path / "sparse", *sparse_data())
    return written, texts(tmp_path / "sparse")


def test_writes_every_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    written = render(out, loo=loo_df())
    assert [p.name for p in written] == list(EXTENSION_FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted(EXTENSION_FILES)  # no temp litter
    for stem in EXTENSION_TABLES:
        tex = (out / f"{stem}.tex").read_text()
        assert tex.count("\\begin{table}") == 1 and "\\label{tab:ext-" in tex
        assert NOT_RUN not in tex
    for stem in EXTENSION_FIGURES:
        assert (out / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
        assert (out / f"{stem}.pdf").read_bytes()[:5] == b"%PDF-"
        assert f"{{{stem}.pdf}}" in (out / f"{stem}.tex").read_text()
    before = {p.name: p.read_bytes() for p in written}
    render(out, loo=loo_df())
    assert {p.name: p.read_bytes() for p in written} == before  # reproducible bytes


def test_missing_data_is_not_run_but_written(sparse) -> None:
    written, tex = sparse
    assert [p.name for p in written] == list(EXTENSION_FILES)
    for stem in (
        "table_ext_curvature",
        "table_ext_loo",
        "table_ext_budget",
        "table_ext_estimated",
        "fig_ext_estimated_ratio",
    ):
        assert NOT_RUN in tex[stem], stem
    for stem in ("table_ext_curvature", "table_ext_loo", "table_ext_estimated"):
        assert spanning(tex[stem]) == [f"\\textit{{{NOT_RUN}}}"], stem
        assert rows_of(tex[stem]) == {}
    # Unlearner comparison: agreement is in the paper's CSV, the new columns are not.
    unlearners = tex["table_ext_unlearners"]
    assert (
        "$\\Delta$ acc.\\ (pp), $\\lVert" in unlearners and "not run in this config" in unlearners
    )
    # agreement 0.95 + 0.01 s over the 2 seeds of one ratio (never pooled across ratios)
    assert rows_of(unlearners)["Influence function"] == ["--", pm("95.5", "0.7"), "--", "--"]
    # Budget table: the ratios are known, the flipped fraction and the estimates are not.
    assert rows_of(tex["table_ext_budget"]) == {"0.05": ["--"], "0.1": ["--"]}
    assert spanning(tex["table_ext_budget"]) == [
        "\\textit{Budget estimation not run in this configuration.}"
    ]
    # What was run is still shown: paper detectors, paper unlearners.
    assert NOT_RUN not in tex["table_ext_detectors"]
    assert NOT_RUN not in tex["table_ext_unlearners_accuracy"]
    assert "Retrained on $D_{\\mathrm{clean}}$" in rows_of(tex["table_ext_unlearners_accuracy"])


def test_figures_show_every_name(tmp_path: Path, monkeypatch) -> None:
    from mislabel.report import render as extensions

    shown: dict[str, tuple[list[str], str]] = {}

    def capture(fig, out_dir, stem, *, caption):
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
        texts = [t.get_text() for legend in legends for t in legend.get_texts()]
        shown[stem] = (texts + [ax.get_title() for ax in fig.axes], caption)
        return []

    monkeypatch.setattr(extensions, "save_figure", capture)
    det, unl = detection_df(), unlearning_df()
    extensions.render_figures(det, unl, tmp_path, dataset="mnist")
    auc, _ = shown["fig_ext_auc_vs_ratio"]
    assert {
        "AUM",
        "Confident learning (cleanlab)",
        "$I_{\\mathrm{up,loss}}(z, z)$, full network",
    } <= set(auc)
    est, _ = shown["fig_ext_estimated_ratio"]
    assert sorted(est[:3]) == ["AUM", "Confident learning (cleanlab)", "y = x"]
    acc, caption = shown["fig_ext_unlearners_vs_ratio"]
    assert {"NegGrad+", "Relabel + fine-tune", "Influence (full)", "SSSE (full)"} <= set(acc)
    titles = [t for t in acc if t.startswith("forget ")]
    assert len(titles) == len(set(titles)) == 6  # 3 forget sets x 2 groups of unlearners
    assert any(t.startswith("forget $D_{\\mathrm{detected}}$, estimated $m$:") for t in titles)
    assert "over 2 seeds" in caption


@NEEDS_TEX
@pytest.mark.parametrize("which", ["rendered", "sparse"])
def test_extensions_compile_in_the_paper(which: str, tmp_path: Path) -> None:
    out = tmp_path / "paper"
    if which == "rendered":
        render(out, loo=loo_df())
    else:
        det, unl = sparse_data()
        render(out, det, unl[unl["target"] != "detected"])
    tex = write_paper_tex(
        out, tables=list(EXTENSION_TABLES), figures=list(EXTENSION_FIGURES), rulegraph=None
    )
    text = tex.read_text()
    assert "\\section{Beyond the paper}" in text and "Additional results" not in text
    log = tmp_path / "paper.log"
    assert compile_paper(tex, log) is True, log.read_text()[-3000:]
    assert (out / "paper.pdf").read_bytes()[:5] == b"%PDF-"
    transcript = log.read_text().split("(pass 2")[1]
    assert "Warning: Reference" not in transcript
    assert "Missing character" not in transcript
