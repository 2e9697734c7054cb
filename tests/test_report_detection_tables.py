"""Tests for mislabel.report.detection_tables beyond Table 5.1: every detector, the budget."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_data_every import detection_df, loo_df, pm, render, rows_of, texts


@pytest.fixture
def rendered(tmp_path: Path) -> dict[str, str]:
    """Render every extension with full data; return the .tex files by stem."""
    render(tmp_path / "out", loo=loo_df())
    return texts(tmp_path / "out")


def test_detectors_table(rendered) -> None:
    tex = rendered["table_ext_detectors"]
    assert "$r$ & 0.05 & 0.1 \\\\" in tex and "(mean $\\pm$ std over 2 seeds)" in tex
    rows = rows_of(tex)
    labels = [k.rstrip("'") for k in rows][:9]
    assert labels == [
        "Loss",
        "AUM",
        "Confident learning (cleanlab)",
        "$I_{\\mathrm{up,loss}}(z, z)$",
        "$I_{\\mathrm{up,loss}}(D_{\\mathrm{train}}, z)$",
        "$I_{\\mathrm{up,loss}}(D_{\\mathrm{train}} \\setminus z, z)$",
        "$I_{\\mathrm{up,loss}}(z, z)$, full network",
        "$I_{\\mathrm{up,loss}}(D_{\\mathrm{train}}, z)$, full network",
        "$I_{\\mathrm{up,loss}}(D_{\\mathrm{train}} \\setminus z, z)$, full network",
    ]
    assert rows["AUM"] == [pm("0.86", "0.01")] * 2  # ROC AUC
    assert rows["AUM'"] == [pm("55.0", "7.1")] * 2  # precision (%)
    assert rows["$I_{\\mathrm{up,loss}}(z, z)$, full network"] == [pm("0.91", "0.01")] * 2
    groups = re.findall(r"\\textit\{(.*?)\}", tex)
    assert groups[0] == "ROC AUC" and groups[1].startswith("Precision (\\%)")


def test_unknown_detector_is_escaped(tmp_path: Path) -> None:
    det = detection_df()
    det.loc[det["detector"] == "aum", "detector"] = "my_det&1"
    render(tmp_path / "out", det)
    tex = texts(tmp_path / "out")["table_ext_detectors"]
    assert "\\quad my\\_det\\&1 &" in tex
    assert tex.index("\\quad my\\_det") > tex.index("full network")  # unknown names last


def test_budget_table(rendered) -> None:
    tex = rendered["table_ext_budget"]
    assert "\\begin{tabular}{lrrr}" in tex
    assert "& \\multicolumn{2}{c}{Estimated ratio $\\hat{r}$} \\\\ \\cmidrule(lr){3-4}" in tex
    assert "$r$ & Flipped (actual) & AUM & Confident learning (cleanlab) \\\\" in tex
    rows = rows_of(tex)
    assert list(rows) == ["0.05", "0.1"]
    # flipped: r + 0.002 s; AUM: 1.2 r + 0.006 s; cleanlab: 0.8 r + 0.004 s.
    assert rows["0.1"] == [pm("0.101", "0.001"), pm("0.123", "0.004"), pm("0.082", "0.003")]
    assert rows["0.05"] == [pm("0.051", "0.001"), pm("0.063", "0.004"), pm("0.042", "0.003")]
