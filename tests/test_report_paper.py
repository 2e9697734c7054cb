"""Tests for mislabel.report.paper: paper.tex and its build with pdflatex."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_data_paper import NEEDS_TEX, detection_df, score_file, unlearning_df, write

from mislabel.report import (
    compile_paper,
    render_curves,
    render_histograms,
    render_tables,
    write_paper_tex,
)
from mislabel.report.figure_style import placed_figure, save_figure
from mislabel.report.paper import paper_tex


@pytest.fixture
def csvs(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write(detection_df(), tmp_path / "detection.csv"),
        write(unlearning_df(), tmp_path / "unlearning.csv"),
    )


def test_paper_tex_sections_and_inputs() -> None:
    tex = paper_tex(
        tables=["table_5_1", "table_5_2.tex", "table_5_3"],
        figures=[
            "fig_5_1.tex",
            "fig_auc_vs_ratio.tex",
            "sub/fig_5_2.tex",
            "fig_extra_aum",
            "fig_ext_auc_vs_ratio",
            "table_ext_loo",
        ],
        title="A & B",
    )
    for pkg in ("booktabs", "graphicx", "amsmath", "amssymb", "float"):
        assert f"\\usepackage{{{pkg}}}" in tex
    inputs = re.findall(r"\\input\{(.*?)\}", tex)
    assert inputs == [
        "table_5_1.tex",
        "fig_5_1.tex",
        "sub/fig_5_2.tex",
        "fig_extra_aum.tex",
        "table_5_2.tex",
        "table_5_3.tex",
        "fig_ext_auc_vs_ratio.tex",
        "table_ext_loo.tex",
        "fig_auc_vs_ratio.tex",
    ]
    sections = re.findall(r"\\section\{(.*?)\}", tex)
    assert sections[-2:] == ["Beyond the paper", "Additional results"]
    assert "\\graphicspath{{sub/}}" in tex
    assert "\\title{A \\& B}" in tex
    assert "The method's stages" in tex and "{fig_1_1.pdf}" in tex
    assert "fig:1-1" not in paper_tex(tables=["table_5_1"], figures=[], rulegraph=None)
    with pytest.raises(ValueError, match="relative path"):
        paper_tex(tables=["my table"], figures=[])


def test_paper_is_a_reproduction_with_its_bibliography() -> None:
    from mislabel import __version__

    tex = paper_tex(tables=["table_5_1", "table_5_2"], figures=["fig_ext_auc_vs_ratio"])
    assert "\\title{A reproduction of Sugiura et al. (2024): Improving" in tex
    assert f"\\author{{The \\texttt{{mislabel}} project, version {__version__}}}" in tex
    cited = {key for keys in re.findall(r"\\cite\{([^}]*)\}", tex) for key in keys.split(",")}
    listed = set(re.findall(r"\\bibitem\{([^}]*)\}", tex))
    assert cited <= listed, cited - listed
    assert {"sugiura2024", "pleiss2020", "northcutt2021", "kurmanji2023"} <= cited
    assert {"lanczos1950", "arnoldi1951", "koh2017", "peste2021"} <= cited
    assert "Sugiura, Okamura, Yamashita and Yanai" in tex


def test_figure_1_keeps_only_the_methods_stages() -> None:
    from mislabel.report.rulegraph import METHOD_STAGES, keep_rules

    dot = "\n".join(
        [
            "digraph snakemake_dag {",
            "    node[shape=box];",
            *[
                f'\t{i}[label = "{r}", color = "0 0 0"];'
                for i, r in enumerate(["all", *METHOD_STAGES, "record_config"])
            ],
            *[f"\t{i} -> {i + 1}" for i in range(1, 6)],
            "\t6 -> 0",
            "\t7 -> 0",
            "}",
        ]
    )
    kept = keep_rules(dot)
    assert re.findall(r'label = "(\w+)"', kept) == list(METHOD_STAGES)
    assert re.findall(r"(\d+) -> (\d+)", kept) == [(str(i), str(i + 1)) for i in range(1, 6)]
    assert kept.startswith("digraph") and "node[shape=box];" in kept
    with pytest.raises(ValueError, match="lacks the rules"):
        keep_rules(dot, ("train", "ghost"))


def test_compile_paper_without_tex(tmp_path: Path, monkeypatch) -> None:
    tex = tmp_path / "paper.tex"
    tex.write_text("\\documentclass{article}\\begin{document}x\\end{document}\n")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    log = tmp_path / "logs" / "paper.log"
    assert compile_paper(tex, log) is False
    assert "no latexmk or pdflatex" in log.read_text()
    assert not (tmp_path / "paper.pdf").exists()


def _render_all(csvs: tuple[Path, Path], out: Path) -> None:
    render_tables(*csvs, out)
    render_histograms({"loss": score_file(out.parent / "loss.npz", "loss")}, out, seed=0)


@NEEDS_TEX
def test_tables_and_figure_compile_with_pdflatex(csvs, tmp_path: Path) -> None:
    out = tmp_path / "build"
    _render_all(csvs, out)
    doc = out / "doc.tex"
    doc.write_text(
        "\\documentclass{article}\n"
        "\\usepackage{booktabs,graphicx,amsmath,amssymb,float}\n"
        "\\begin{document}\n"
        "\\input{table_5_1.tex}\n\\input{table_5_2.tex}\n\\input{table_5_3.tex}\n"
        "\\input{fig_5_1.tex}\n"
        "\\end{document}\n"
    )
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
        cwd=out,
        capture_output=True,
        text=True,
        errors="replace",
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (out / "doc.pdf").read_bytes()[:5] == b"%PDF-"


@NEEDS_TEX
def test_write_paper_tex_and_compile_paper(csvs, tmp_path: Path) -> None:
    out = tmp_path / "paper"
    _render_all(csvs, out)
    render_curves(*csvs, out)
    fig = placed_figure("single", 2.0)
    fig.add_subplot().text(0.5, 0.5, "rule graph")
    save_figure(fig, out, "fig_1_1", caption="unused")
    tex = write_paper_tex(
        out,
        tables=["table_5_1.tex", "table_5_2.tex", "table_5_3.tex"],
        figures=["fig_5_1.tex", "fig_accuracy_vs_ratio.tex", "fig_auc_vs_ratio.tex"],
    )
    before = set(out.iterdir())
    log = tmp_path / "logs" / "paper.log"
    assert compile_paper(tex, log) is True
    assert (out / "paper.pdf").read_bytes()[:5] == b"%PDF-"
    assert set(out.iterdir()) - before == {out / "paper.pdf"}  # no .aux/.log litter
    assert "Output written" in log.read_text()
    assert "Warning: Reference" not in log.read_text().split("(pass 2")[1]
    first = (out / "paper.pdf").read_bytes()
    assert compile_paper(tex, log) and (out / "paper.pdf").read_bytes() == first  # reproducible


@NEEDS_TEX
def test_compile_paper_failure_points_to_log(tmp_path: Path) -> None:
    tex = tmp_path / "paper.tex"
    tex.write_text("\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}\n")
    log = tmp_path / "paper.log"
    with pytest.raises(RuntimeError, match=re.escape(str(log))):
        compile_paper(tex, log)
    assert "Undefined control sequence" in log.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paper.log", "paper.tex"]


def test_every_artifact_lands_in_its_section() -> None:
    from mislabel.report.paper import SECTIONS, group_sections
    from mislabel.workflow import artifacts

    titles = [title for title, _, _ in SECTIONS]
    expected = {
        titles[0]: ["table_5_1", *artifacts.HISTOGRAM_FIGURES.values(), "fig_extra_aum"],
        titles[1]: ["table_5_2"],
        titles[2]: ["table_5_3"],
        titles[3]: [artifacts.PAPER_VS_OURS],
        titles[4]: [*artifacts.EXTENSION_TABLES, *artifacts.EXTENSION_FIGURES],
        titles[5]: [*artifacts.CURVES, "anything_else"],
    }
    items = [f"{stem}.tex" for stems in expected.values() for stem in stems]
    sections = group_sections(items)
    assert {s.title: [item[: -len(".tex")] for item in s.items] for s in sections} == expected
