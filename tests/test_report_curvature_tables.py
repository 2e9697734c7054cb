"""Tests for mislabel.report.curvature_tables: last layer vs full network, leave-k-out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from report_data_every import (
    NOT_RUN,
    PAPER_UNLEARNERS,
    loo_df,
    pm,
    render,
    rows_of,
    spanning,
    texts,
    unlearning_df,
)


@pytest.fixture
def rendered(tmp_path: Path) -> dict[str, str]:
    """Render every extension with full data; return the .tex files by stem."""
    render(tmp_path / "out", loo=loo_df())
    return texts(tmp_path / "out")


def test_curvature_table(rendered) -> None:
    tex = rendered["table_ext_curvature"]
    heads = spanning(tex)
    assert heads == [
        "\\textit{Detection: ROC AUC}",
        "$I_{\\mathrm{up,loss}}(z, z)$",
        "$I_{\\mathrm{up,loss}}(D_{\\mathrm{train}}, z)$",
        "$I_{\\mathrm{up,loss}}(D_{\\mathrm{train}} \\setminus z, z)$",
        "\\textit{Experiment 2: test accuracy (\\%), forget $D_{\\mathrm{mislabeled}}$}",
        "Influence function",
        "SSSE",
        "\\textit{Experiment 3: test accuracy (\\%), forget $D_{\\mathrm{detected}}$}",
        "Influence function",
        "SSSE",
    ]
    rows = list(rows_of(tex).items())
    assert [k.rstrip("'") for k, _ in rows] == ["last layer", "full network"] * 7
    assert rows[0][1] == [pm("0.81", "0.01")] * 2  # if_self
    assert rows[1][1] == [pm("0.91", "0.01")] * 2  # if_self_full
    assert rows[6][1] == [pm("85.2", "0.3")] * 2  # influence, Experiment 2
    assert rows[7][1] == [pm("87.2", "0.3")] * 2  # influence_full, Experiment 2
    assert rows[13][1] == [pm("87.2", "0.3")] * 2  # ssse_full, Experiment 3: 88 - 1 + 0.2
    assert "side by side" in tex


def test_partial_curvature_gets_a_note_per_group(tmp_path: Path) -> None:
    unl = unlearning_df(("pretrained", *PAPER_UNLEARNERS), ("mislabeled", "detected"))
    render(tmp_path / "out", unl=unl)
    tex = texts(tmp_path / "out")["table_ext_curvature"]
    assert NOT_RUN not in tex.split("\\label")[0]  # the caption: some of it was run
    heads = spanning(tex)
    assert heads.count(f"\\textit{{{NOT_RUN}}}") == 2  # Experiments 2 and 3
    assert "$I_{\\mathrm{up,loss}}(z, z)$" in heads


def test_loo_table(rendered, tmp_path: Path) -> None:
    tex = rendered["table_ext_loo"]
    assert "Scope & $k$ & Seeds & Retrainings & Pearson & Spearman & Slope \\\\" in tex
    rows = rows_of(tex)
    assert list(rows) == ["Last layer", "Full network (conjugate gradients)"]
    assert "at noise ratio $r = 0.1$ (mean $\\pm$ std over 2 seeds)." in tex
    assert rows["Full network (conjugate gradients)"] == [
        "10",
        "2",
        "20",
        pm("0.90", "0.07"),
        pm("0.85", "0.14"),
        pm("1.5", "0.0"),
    ]
    assert rows["Last layer"][3:5] == [pm("-0.55", "0.07"), pm("-0.60", "0.14")]
    # Without a slope column; rows of another dataset only -> not run.
    loo = loo_df(slope=False)
    render(tmp_path / "a", loo=loo)
    assert "Slope" not in texts(tmp_path / "a")["table_ext_loo"]
    render(tmp_path / "b", loo=loo.assign(dataset="cifar10"))
    assert NOT_RUN in texts(tmp_path / "b")["table_ext_loo"]
    # A skipped validation writes only the header; an empty file is not run either.
    for i, text in enumerate([",".join(loo.columns) + "\n", ""]):
        (tmp_path / f"skip{i}.csv").write_text(text)
        render(tmp_path / f"skip{i}", loo=tmp_path / f"skip{i}.csv")
        assert NOT_RUN in texts(tmp_path / f"skip{i}")["table_ext_loo"]
    with pytest.raises(ValueError, match="spearman"):
        render(tmp_path / "c", loo=loo.drop(columns="spearman"))


def test_loo_table_never_pools_noise_ratios(tmp_path: Path) -> None:
    """Runs at two noise ratios: a block of rows per ratio, each ± a spread over the seeds
    at that ratio (Pearson 0.95 - 0.1 s at r = 0.1, 0.15 lower at r = 0.3)."""
    one = loo_df()
    loo = pd.concat([one, one.assign(ratio=0.3, pearson=one["pearson"] - 0.15)])
    render(tmp_path / "out", loo=loo)
    tex = texts(tmp_path / "out")["table_ext_loo"]
    assert "per noise ratio $r \\in \\{0.1, 0.3\\}$" in tex
    assert spanning(tex) == ["\\textit{Noise ratio $r = 0.1$}", "\\textit{Noise ratio $r = 0.3$}"]
    rows = rows_of(tex)
    full = "Full network (conjugate gradients)"
    assert rows[full][3] == pm("0.90", "0.07") and rows[full + "'"][3] == pm("0.75", "0.07")
