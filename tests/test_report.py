"""Tests for mislabel.report: cell formatting, table layout, figures, Markdown, LaTeX build."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mislabel.report import (
    compile_paper,
    format_cell,
    render_curves,
    render_histograms,
    render_tables,
    table_markdown,
    write_paper_tex,
)
from mislabel.report.figures import histogram_figure, new_figure, save_figure
from mislabel.report.paper import paper_tex
from mislabel.report.tables import PM_PLAIN, latex_escape

RATIOS = (0.3, 0.05, 0.01)  # deliberately unsorted
DETECTORS = ("if_train", "loss", "aum", "if_train_minus_z", "if_self")  # shuffled + extension
METHODS = ("retrain", "influence", "ssse", "finetune")
NEEDS_TEX = pytest.mark.skipif(
    shutil.which("pdflatex") is None, reason="pdflatex not on PATH (install TeX Live to run)"
)


def _detection_df(seeds: tuple[int, ...] = (0, 1), dataset: str = "mnist") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [
        dict(
            dataset=dataset,
            ratio=r,
            seed=s,
            detector=d,
            n=2000,
            m=round(2000 * r),
            roc_auc=rng.uniform(0.5, 1),
            accuracy=rng.uniform(0.5, 1),
            precision=rng.uniform(0, 1),
            recall=0.5,
            f1=0.5,
        )
        for r in RATIOS
        for s in seeds
        for d in DETECTORS
    ]
    return pd.DataFrame(rows)


def _unlearning_df(seeds: tuple[int, ...] = (0, 1), methods=METHODS) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for r in RATIOS:
        for s in seeds:
            rows.append(dict(method="pretrained", target="none", ratio=r, seed=s))
            for m in methods:
                for t in ("detected", "mislabeled"):
                    rows.append(dict(method=m, target=t, ratio=r, seed=s))
    df = pd.DataFrame(rows)
    df["dataset"] = "mnist"
    df["test_accuracy"] = rng.uniform(0.8, 1, len(df))
    df["seconds"] = 1.0
    return df


def _write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def csvs(tmp_path: Path) -> tuple[Path, Path]:
    return (
        _write(_detection_df(), tmp_path / "detection.csv"),
        _write(_unlearning_df(), tmp_path / "unlearning.csv"),
    )


def _score_file(path: Path, detector: str, *, ratio: float = 0.05, n: int = 400) -> Path:
    rng = np.random.default_rng(2)
    flipped = np.zeros(n, bool)
    flipped[: int(n * ratio)] = True
    scores = rng.normal(size=n) + 3.0 * flipped
    m = round(n * ratio)
    flagged = np.zeros(n, bool)
    flagged[np.argsort(-scores)[:m]] = True
    np.savez(
        path, scores=scores, flipped=flipped, flagged=flagged, detector=detector, ratio=ratio, m=m
    )
    return path


def _body_rows(tex: str) -> list[str]:
    """Data rows of a rendered table: the lines between \\midrule and \\bottomrule with '&'."""
    body = tex.split("\\midrule", 1)[1].split("\\bottomrule")[0]
    return [line.strip() for line in body.splitlines() if "&" in line]


# --- cells ---------------------------------------------------------------------------------


def test_format_cell_single_seed() -> None:
    assert format_cell([0.93456], "auc") == "0.93"
    assert format_cell([0.93456], "percent") == "93.5"


def test_format_cell_several_seeds_uses_sample_std() -> None:
    values = [0.9, 1.0]
    std = np.std(values, ddof=1)
    assert format_cell(values, "auc") == f"0.95 $\\pm$ {std:.2f}"
    assert format_cell(values, "percent") == f"95.0 $\\pm$ {100 * std:.1f}"
    assert format_cell(values, "percent", pm=PM_PLAIN) == f"95.0 ± {100 * std:.1f}"


def test_format_cell_missing_and_nan() -> None:
    assert format_cell([], "auc") == "--"
    assert format_cell([np.nan], "percent") == "--"
    assert format_cell([np.nan, 0.5], "auc") == "0.50"  # NaN seeds are skipped


def test_format_cell_rejects_bad_kind_and_percentages() -> None:
    with pytest.raises(ValueError, match="kind"):
        format_cell([0.5], "ratio")
    with pytest.raises(ValueError, match="fractions"):
        format_cell([93.0], "percent")


def test_latex_escape() -> None:
    assert latex_escape("a_b&c%$#{}") == r"a\_b\&c\%\$\#\{\}"


# --- tables --------------------------------------------------------------------------------


def test_render_tables_writes_three_files(csvs, tmp_path: Path) -> None:
    paths = render_tables(*csvs, tmp_path / "out")
    assert [p.name for p in paths] == ["table_5_1.tex", "table_5_2.tex", "table_5_3.tex"]
    for p in paths:
        tex = p.read_text()
        assert tex.count("\\begin{table}") == 1 and "\\end{table}" in tex
        assert "\\toprule" in tex and "\\bottomrule" in tex and "\\label{tab:5-" in tex
        assert "\\begin{tabular}{lrrr}" in tex  # one column per ratio
        assert "$r$ & 0.01 & 0.05 & 0.3 \\\\" in tex  # sorted ascending
        assert "mean $\\pm$ std over 2 seeds" in tex
        assert not list((tmp_path / "out").glob(".*tmp"))


def test_table_5_1_layout(csvs, tmp_path: Path) -> None:
    tex = render_tables(*csvs, tmp_path)[0].read_text()
    groups = re.findall(r"\\textit\{(.*?)\}", tex)
    assert groups == ["ROC AUC", "Accuracy (\\%)", "Precision (\\%)"]
    labels = [row.split(" & ")[0].removeprefix("\\quad ") for row in _body_rows(tex)]
    detectors = [
        "Loss",
        "$I_{\\mathrm{up,loss}}(z, z)$",
        "$I_{\\mathrm{up,loss}}(D_{\\mathrm{train}}, z)$",
        "$I_{\\mathrm{up,loss}}(D_{\\mathrm{train}} \\setminus z, z)$",
    ]  # "aum" is beyond the paper: not in Table 5.1
    assert labels == detectors * 3
    loss_auc = _body_rows(tex)[0].split(" & ")[1]
    assert re.fullmatch(r"0\.\d\d \$\\pm\$ 0\.\d\d", loss_auc)
    pct = _body_rows(tex)[len(detectors)].split(" & ")[1]
    assert re.fullmatch(r"\d+\.\d \$\\pm\$ \d+\.\d", pct)


def test_table_5_2_and_5_3_rows(csvs, tmp_path: Path) -> None:
    _, t2, t3 = (p.read_text() for p in render_tables(*csvs, tmp_path))
    assert [r.split(" & ")[0] for r in _body_rows(t2)] == [
        "Pre-trained",
        "Influence function",
        "SSSE",
        "Fine-tuned",
        "Retrained on $D_{\\mathrm{clean}}$",
    ]
    lines = [line.strip() for line in t3.split("\\midrule", 1)[1].splitlines()]
    lines = [line for line in lines if line.startswith(("Pre-trained", "\\multicolumn", "\\quad"))]
    heads = [re.sub(r"\\multicolumn\{4\}\{l\}\{(.*)\} \\\\", r"\1", line) for line in lines]
    subs = ["\\quad on $D_{\\mathrm{mislabeled}}$", "\\quad on $D_{\\mathrm{detected}}$"]
    expected = ["Pre-trained"]
    for method in ("Influence function", "SSSE", "Fine-tuned", "Retrained"):
        expected += [method, *subs]
    assert [h.split(" & ")[0] for h in heads] == expected


def test_captions_name_the_budget_and_tables_use_the_chosen_metric(tmp_path: Path) -> None:
    det = _detection_df()
    unl = _unlearning_df()
    unl["balanced_accuracy"] = 1.0 - unl["test_accuracy"]  # in [0, 0.2]: tells them apart
    unl_csv = _write(unl, tmp_path / "unlearning.csv")
    nominal = render_tables(_write(det, tmp_path / "detection.csv"), unl_csv, tmp_path / "a")
    caption = nominal[0].read_text()  # no budget column: summaries of the nominal budget
    assert r"$m = \mathrm{round}(nr)$, the nominal budget" in caption
    det["budget"] = "oracle"
    oracle = render_tables(
        _write(det, tmp_path / "detection.csv"), unl_csv, tmp_path / "b", metric="balanced_accuracy"
    )
    t51, t52, t53 = (p.read_text() for p in oracle)
    assert "$m$ = the number of flipped labels, the oracle budget" in t51
    assert "the oracle budget" in t53 and "Balanced test accuracy" in t52
    pre = unl[(unl["method"] == "pretrained") & np.isclose(unl["ratio"], 0.01)]
    mean, std = 100 * pre["balanced_accuracy"].mean(), 100 * pre["balanced_accuracy"].std()
    assert _body_rows(t52)[0].split(" & ")[1] == f"{mean:.1f} $\\pm$ {std:.1f}"
    with pytest.raises(ValueError, match="unknown test metric 'f1'"):
        render_tables(tmp_path / "detection.csv", unl_csv, tmp_path / "c", metric="f1")


def test_one_seed_missing_cells_and_subset_of_methods(tmp_path: Path) -> None:
    det = _detection_df(seeds=(0,))
    det = det[~((det["detector"] == "loss") & (det["ratio"] == 0.3))]
    unl = _unlearning_df(seeds=(3,), methods=("retrain", "influence"))
    paths = render_tables(
        _write(det, tmp_path / "d.csv"), _write(unl, tmp_path / "u.csv"), tmp_path
    )
    t1, t2, t3 = (p.read_text() for p in paths)
    assert "(1 seed)" in t1 and "\\pm" not in t1.split("\\midrule", 1)[1]
    loss_auc = _body_rows(t1)[0]
    assert loss_auc.startswith("\\quad Loss &") and loss_auc.endswith("& -- \\\\")
    assert re.fullmatch(r"\\quad Loss & 0\.\d\d & 0\.\d\d & -- \\\\", loss_auc)
    assert "SSSE" not in t2 and "Fine-tuned" not in t3
    assert len(_body_rows(t2)) == 3  # pretrained, influence, retrain


def test_tables_5_x_are_paper_only(tmp_path: Path) -> None:
    det = _detection_df()
    det.loc[det["detector"] == "aum", "detector"] = "my_det&1"  # unknown: left out too
    extra = _detection_df()
    extra = extra[extra["detector"] == "if_self"].assign(detector="if_self_full")
    unl = _unlearning_df(methods=(*METHODS, "neggrad_plus", "ssse_full"))
    estimated = unl[unl["target"] == "detected"].assign(target="detected_estimated")
    paths = render_tables(
        _write(pd.concat([det, extra]), tmp_path / "d.csv"),
        _write(pd.concat([unl, estimated]), tmp_path / "u.csv"),
        tmp_path,
    )
    t1, t2, t3 = (p.read_text() for p in paths)
    assert "my" not in t1 and "full network" not in t1 and len(_body_rows(t1)) == 3 * 4
    for tex in (t2, t3):
        assert "NegGrad" not in tex and "SSSE (full)" not in tex and "estimated" not in tex
    assert len(_body_rows(t2)) == 5 and len(_body_rows(t3)) == 1 + 4 * 2
    assert "(mean $\\pm$ std over 2 seeds)" in t3
    md = table_markdown(_write(pd.concat([unl, estimated]), tmp_path / "u.csv"))
    assert "NegGrad" not in md and len(md.strip().splitlines()) == 2 + 5


def test_paper_curves_are_paper_only(tmp_path: Path, monkeypatch) -> None:
    from mislabel.report import figures

    shown: dict[str, list[str]] = {}

    def capture(fig, out_dir, stem, **kwargs):
        shown[stem] = [
            text.get_text()
            for ax in fig.axes
            for text in (ax.get_legend().get_texts() if ax.get_legend() else [])
        ] + [ax.get_title() for ax in fig.axes]
        return []

    monkeypatch.setattr(figures, "save_figure", capture)
    det = _detection_df()
    unl = _unlearning_df(methods=(*METHODS, "relabel"))
    estimated = unl[unl["target"] == "detected"].assign(target="detected_estimated")
    figures.render_curves(
        _write(det, tmp_path / "d.csv"),
        _write(pd.concat([unl, estimated]), tmp_path / "u.csv"),
        tmp_path,
    )
    assert "aum" not in shown["fig_auc_vs_ratio"] and "Loss" in shown["fig_auc_vs_ratio"]
    acc = shown["fig_accuracy_vs_ratio"]
    assert "Relabel + fine-tune" not in acc and "SSSE" in acc
    assert [t for t in acc if t.startswith("forget")] == [
        "forget $D_{\\mathrm{mislabeled}}$",
        "forget $D_{\\mathrm{detected}}$",
    ]


def test_missing_columns_are_named(csvs, tmp_path: Path) -> None:
    det = pd.read_csv(csvs[0]).drop(columns=["roc_auc", "precision"])
    with pytest.raises(ValueError, match="roc_auc, precision"):
        render_tables(_write(det, tmp_path / "bad.csv"), csvs[1], tmp_path)
    unl = pd.read_csv(csvs[1]).drop(columns=["target"])
    with pytest.raises(ValueError, match="target"):
        render_tables(csvs[0], _write(unl, tmp_path / "bad2.csv"), tmp_path)


def test_no_rows_for_dataset(csvs, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no rows for dataset 'cifar10'"):
        render_tables(*csvs, tmp_path, dataset="cifar10")


def test_duplicate_rows_rejected(csvs, tmp_path: Path) -> None:
    det = pd.read_csv(csvs[0])
    det = pd.concat([det, det.iloc[:1]])
    with pytest.raises(ValueError, match="duplicate"):
        render_tables(_write(det, tmp_path / "dup.csv"), csvs[1], tmp_path)


# --- markdown ------------------------------------------------------------------------------


def test_table_markdown_matches_latex_cells(csvs, tmp_path: Path) -> None:
    md = table_markdown(csvs[1])
    lines = md.strip().splitlines()
    assert lines[0] == "| r | 0.01 | 0.05 | 0.3 |"
    assert lines[1] == "|:--|--:|--:|--:|"
    assert [line.split(" | ")[0].removeprefix("| ") for line in lines[2:]] == [
        "Pre-trained",
        "Influence function",
        "SSSE",
        "Fine-tuned",
        "Retrained on D_clean",
    ]
    t2 = render_tables(*csvs, tmp_path)[1].read_text()
    tex_cells = _body_rows(t2)[0].rstrip(" \\").split(" & ")[1:]
    md_cells = lines[2].strip("| ").split(" | ")[1:]
    assert md_cells == [c.replace(" $\\pm$ ", " ± ") for c in tex_cells]
    assert "±" in md and "$" not in md.replace("$D", "")


def test_table_markdown_bad_target(csvs) -> None:
    assert "Retrained |" in table_markdown(csvs[1], target="detected")
    with pytest.raises(ValueError, match="no rows with target 'random'"):
        table_markdown(csvs[1], target="random")


# --- figures -------------------------------------------------------------------------------


def test_histogram_figure_caps_y_axis() -> None:
    flipped = np.arange(300) < 15
    scores = np.where(flipped, 3.0, 0.0) + np.linspace(0, 1, 300)
    fig = histogram_figure(scores, flipped, label="Loss", ratio=0.05, seed=0, threshold=2.5)
    (ax,) = fig.axes
    assert ax.get_ylim() == (0.0, 50.0)
    assert ax.get_xlabel() == "anomaly score: Loss"
    assert ax.get_ylabel() == "number of training samples"
    assert "r = 0.05" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["clean (n = 285)", "mislabeled (n = 15)"]
    # Both histograms share the same bin edges.
    clean, mis = ax.containers[:2]
    assert [p.get_x() for p in clean.patches] == [p.get_x() for p in mis.patches]


def test_histogram_figure_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="equal length"):
        histogram_figure(np.zeros(3), np.zeros(4, bool), label="x", ratio=0.1, seed=0)


def test_render_histograms(tmp_path: Path) -> None:
    paths = {d: _score_file(tmp_path / f"{d}.npz", d) for d in ("if_self", "loss", "aum")}
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
        "training samples at noise ratio $r = 0.05$ (seed 0, first of 3 seeds); "
        "y axis capped at 50."
    ) in tex
    assert (out / "fig_5_1.png").read_bytes()[:4] == b"\x89PNG"
    # Reruns give identical bytes.
    before = {p.name: p.read_bytes() for p in written}
    render_histograms(paths, out, seed=0, n_seeds=3)
    assert {p.name: p.read_bytes() for p in written} == before
    one = render_histograms({"loss": paths["loss"]}, tmp_path / "one", seed=4)
    assert "(seed 4); y axis" in one[2].read_text()


def test_render_histograms_checks_detector(tmp_path: Path) -> None:
    path = _score_file(tmp_path / "s.npz", "loss")
    with pytest.raises(ValueError, match="holds detector 'loss'"):
        render_histograms({"if_self": path}, tmp_path, seed=0)
    with pytest.raises(ValueError, match="must match"):
        render_histograms({"a b": path}, tmp_path, seed=0)


def test_render_curves(csvs, tmp_path: Path) -> None:
    written = render_curves(*csvs, tmp_path)
    assert sorted(p.name for p in written) == sorted(
        f"fig_{k}_vs_ratio{e}" for k in ("accuracy", "auc") for e in (".pdf", ".png", ".tex")
    )
    assert all(p.stat().st_size > 0 for p in written)
    assert "over 2 seeds" in (tmp_path / "fig_auc_vs_ratio.tex").read_text()


# --- paper and LaTeX build -----------------------------------------------------------------


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
    assert "workflow's rule graph" in tex and "{fig_1_1.pdf}" in tex
    assert "rule graph" not in paper_tex(tables=["table_5_1"], figures=[], rulegraph=None)
    with pytest.raises(ValueError, match="relative path"):
        paper_tex(tables=["my table"], figures=[])


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
    render_histograms({"loss": _score_file(out.parent / "loss.npz", "loss")}, out, seed=0)


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
    fig = new_figure()
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


def test_report_does_not_import_jax() -> None:
    code = "import sys, mislabel.report; assert 'jax' not in sys.modules, 'jax imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
