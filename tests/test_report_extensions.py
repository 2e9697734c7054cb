"""Tests for mislabel.report.extensions: the tables and figures beyond the paper."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mislabel.report import EXTENSION_FILES, format_cell, render_extensions, write_paper_tex
from mislabel.report.extensions import EXTENSION_FIGURES, EXTENSION_TABLES, twin_styles
from mislabel.report.paper import compile_paper

RATIOS = (0.1, 0.05)  # deliberately unsorted
SEEDS = (0, 1)
PM = " $\\pm$ "
NOT_RUN = "Not run in this configuration."
NEEDS_TEX = pytest.mark.skipif(
    shutil.which("pdflatex") is None, reason="pdflatex not on PATH (install TeX Live to run)"
)
# ROC AUC = base + 0.02 seed: mean base + 0.01, std 0.014 -> "0.xx $\pm$ 0.01".
AUC_BASE = {
    "loss": 0.70,
    "if_self": 0.80,
    "if_train": 0.75,
    "if_train_minus_z": 0.76,
    "if_self_full": 0.90,
    "if_train_full": 0.77,
    "if_train_minus_z_full": 0.78,
    "aum": 0.85,
    "cleanlab": 0.82,
}
# Estimated ratio = factor * r + slope * seed; NaN for detectors that cannot estimate.
ESTIMATES = {"aum": (1.2, 0.006), "cleanlab": (0.8, 0.004)}
# Test accuracy = base + 0.004 seed + target offset.
ACC_BASE = {
    "pretrained": 0.80,
    "influence": 0.85,
    "ssse": 0.86,
    "finetune": 0.84,
    "retrain": 0.90,
    "influence_full": 0.87,
    "ssse_full": 0.88,
    "neggrad_plus": 0.83,
    "relabel": 0.89,
}
TARGET_OFFSET = {"mislabeled": 0.0, "detected": -0.01, "detected_estimated": -0.02}
PAPER_DETECTORS = ("loss", "if_self", "if_train", "if_train_minus_z")
PAPER_METHODS = ("influence", "ssse", "finetune", "retrain")


def detection_df(detectors=tuple(AUC_BASE), *, extension_columns: bool = True) -> pd.DataFrame:
    rows = []
    for r in RATIOS:
        for s in SEEDS:
            for d in detectors:
                row = dict(
                    dataset="mnist",
                    ratio=r,
                    seed=s,
                    detector=d,
                    n=2000,
                    m=round(2000 * r),
                    roc_auc=AUC_BASE[d] + 0.02 * s,
                    accuracy=0.9,
                    precision=0.5 + 0.1 * s,
                    recall=0.5,
                    f1=0.5,
                    seconds=1.0,
                    curvature="full" if d.endswith("_full") else "",
                )
                if extension_columns:
                    factor, slope = ESTIMATES.get(d, (np.nan, np.nan))
                    row["flipped_ratio"] = r + 0.002 * s
                    row["estimated_ratio"] = factor * r + slope * s
                    row["m_estimated"] = (
                        round(2000 * row["estimated_ratio"]) if d in ESTIMATES else np.nan
                    )
                rows.append(row)
    return pd.DataFrame(rows)


def unlearning_df(
    methods=tuple(ACC_BASE),
    targets=tuple(TARGET_OFFSET),
    *,
    extension_columns: bool = True,
    cg: bool = True,
) -> pd.DataFrame:
    rows = []
    for r in RATIOS:
        for s in SEEDS:
            clean = ACC_BASE["retrain"] + 0.004 * s
            for method in methods:
                for target in ["none"] if method == "pretrained" else targets:
                    acc = ACC_BASE[method] + 0.004 * s + TARGET_OFFSET.get(target, 0.0)
                    row = dict(
                        dataset="mnist",
                        ratio=r,
                        seed=s,
                        method=method,
                        target=target,
                        test_accuracy=acc,
                        balanced_accuracy=acc,
                        agreement_with_retrain_clean=0.95 + 0.01 * s,
                        seconds=1.0,
                        seconds_first=2.0,
                        m_forget=round(2000 * r),
                        n_forget_mislabeled=round(1900 * r),
                    )
                    if extension_columns:
                        row["accuracy_gap_to_retrain_clean"] = acc - clean
                        row["param_l2_to_retrain_clean"] = 2.0 + s
                        row["time_vs_retrain"] = 1.0 if method == "retrain" else 0.1 * (1 + s)
                    if cg:
                        uses_cg = method.startswith("influence")
                        row["cg_iterations"] = 10 + s if uses_cg else np.nan
                        row["cg_relative_residual"] = 1e-6 if uses_cg else np.nan
                        row["cg_converged"] = (s == 0) if uses_cg else None
                    rows.append(row)
    return pd.DataFrame(rows)


def loo_df(slope: bool = True) -> pd.DataFrame:
    rows = [
        dict(
            dataset="mnist",
            ratio=0.1,
            scope=scope,
            seed=s,
            n_removed=10,
            n_runs=20,
            pearson=base - 0.1 * s,
            spearman=base - 0.2 * s,
        )
        for scope, base in (("full", 0.95), ("last_layer", -0.5))
        for s in SEEDS
    ]
    df = pd.DataFrame(rows)
    if slope:
        df["slope"] = 1.5
    return df


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def render(
    out: Path,
    det: pd.DataFrame | None = None,
    unl: pd.DataFrame | None = None,
    loo: pd.DataFrame | Path | None = None,
) -> list[Path]:
    """Render the extensions into `out`; det/unl None: the full synthetic data; loo None: not
    run. The CSVs are written next to `out`."""
    csv = {
        "d": detection_df() if det is None else det,
        "u": unlearning_df() if unl is None else unl,
    }
    if isinstance(loo, pd.DataFrame):
        csv["loo"] = loo
    paths = {k: write(df, out.parent / f"{out.name}_{k}.csv") for k, df in csv.items()}
    loo_path = paths.get("loo", loo)
    return render_extensions(paths["d"], paths["u"], loo_path, out, dataset="mnist")


def texts(out: Path) -> dict[str, str]:
    """The rendered `.tex` files by stem."""
    return {p.stem: p.read_text() for p in out.glob("*.tex")}


def sparse_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Only the paper's detectors and methods and none of the new columns."""
    det = detection_df(PAPER_DETECTORS, extension_columns=False)
    unl = unlearning_df(
        ("pretrained", *PAPER_METHODS),
        ("mislabeled", "detected"),
        extension_columns=False,
        cg=False,
    )
    return det, unl


@pytest.fixture
def rendered(tmp_path: Path) -> dict[str, str]:
    """Render every extension with full data; return the .tex files by stem."""
    render(tmp_path / "out", loo=loo_df())
    return texts(tmp_path / "out")


@pytest.fixture
def sparse(tmp_path: Path) -> tuple[list[Path], dict[str, str]]:
    """Render with only the paper's detectors and methods, no new columns, no LOO."""
    written = render(tmp_path / "sparse", *sparse_data())
    return written, texts(tmp_path / "sparse")


def rows_of(tex: str) -> dict[str, list[str]]:
    """Data rows of a table, label (without \\quad) -> cells; later duplicates get a suffix."""
    body = tex.split("\\midrule", 1)[1].split("\\bottomrule")[0]
    out: dict[str, list[str]] = {}
    for line in body.splitlines():
        line = line.strip()
        if "&" not in line or line.startswith("\\multicolumn"):
            continue
        label, *cells = line.removesuffix("\\\\").strip().split(" & ")
        label = label.removeprefix("\\quad ")
        key = label
        while key in out:
            key += "'"
        out[key] = cells
    return out


def spanning(tex: str) -> list[str]:
    """The text of every spanning row (group headings, method headings, notes)."""
    return re.findall(r"\\multicolumn\{\d+\}\{l\}\{(.*)\} \\\\", tex)


def pm(mean: str, std: str) -> str:
    return f"{mean}{PM}{std}"


# --- files ---------------------------------------------------------------------------------


def test_extension_files_constant() -> None:
    assert len(EXTENSION_FILES) == len(EXTENSION_TABLES) + 3 * len(EXTENSION_FIGURES)
    assert "table_ext_unlearners_accuracy.tex" in EXTENSION_FILES
    assert {"fig_ext_estimated_ratio.pdf", "fig_ext_estimated_ratio.png"} <= set(EXTENSION_FILES)
    assert len(set(EXTENSION_FILES)) == len(EXTENSION_FILES)


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
    assert rows_of(unlearners)["Influence function"] == ["--", pm("95.5", "0.6"), "--", "--"]
    # Budget table: the ratios are known, the flipped fraction and the estimates are not.
    assert rows_of(tex["table_ext_budget"]) == {"0.05": ["--"], "0.1": ["--"]}
    assert spanning(tex["table_ext_budget"]) == [
        "\\textit{Budget estimation not run in this configuration.}"
    ]
    # What was run is still shown: paper detectors, paper methods.
    assert NOT_RUN not in tex["table_ext_detectors"]
    assert NOT_RUN not in tex["table_ext_unlearners_accuracy"]
    assert "Retrained on $D_{\\mathrm{clean}}$" in rows_of(tex["table_ext_unlearners_accuracy"])


def test_partial_curvature_gets_a_note_per_group(tmp_path: Path) -> None:
    unl = unlearning_df(("pretrained", *PAPER_METHODS), ("mislabeled", "detected"))
    render(tmp_path / "out", unl=unl)
    tex = texts(tmp_path / "out")["table_ext_curvature"]
    assert NOT_RUN not in tex.split("\\label")[0]  # the caption: some of it was run
    heads = spanning(tex)
    assert heads.count(f"\\textit{{{NOT_RUN}}}") == 2  # Experiments 2 and 3
    assert "$I_{\\mathrm{up,loss}}(z, z)$" in heads


# --- tables --------------------------------------------------------------------------------


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
        pm("1.5", "0"),
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


def test_estimated_table(rendered) -> None:
    tex = rendered["table_ext_estimated"]
    heads = spanning(tex)
    assert heads[:2] == ["Influence function", "SSSE"]
    assert heads[-4:] == ["Influence (full)", "SSSE (full)", "NegGrad+", "Relabel + fine-tune"]
    rows = list(rows_of(tex).items())
    assert rows[0] == ("Pre-trained", [pm("80.2", "0.3")] * 2)
    assert [k.rstrip("'") for k, _ in rows[1:3]] == ["given $m$", "estimated $\\hat{m}$"]
    # summaries without a budget column were written with the nominal budget
    assert "given budget ($m = \\mathrm{round}(nr)$, the nominal budget" in tex
    assert rows[1][1] == [pm("84.2", "0.3")] * 2  # influence, detected: 85 - 1 + 0.2
    assert rows[2][1] == [pm("83.2", "0.3")] * 2  # influence, detected_estimated
    assert len(rows) == 1 + 2 * 8
    assert "D_{\\mathrm{mislabeled}}" not in tex.split("\\midrule", 1)[1]


def test_unlearners_table(rendered) -> None:
    tex = rendered["table_ext_unlearners"]
    assert "\\begin{tabular}{lrrrrrr}" in tex  # 4 metrics + 2 CG columns
    assert "CG iter. & CG conv.\\ (\\%) \\\\" in tex
    assert "over all 2 noise ratios and 2 seeds together" in tex
    heads = spanning(tex)
    assert heads == [
        "\\textit{Forget $D_{\\mathrm{mislabeled}}$}",
        "\\textit{Forget $D_{\\mathrm{detected}}$}",
        "\\textit{Forget $D_{\\mathrm{detected}}$, estimated $m$}",
    ]
    rows = list(rows_of(tex).items())
    assert [k for k, _ in rows[:3]] == ["Pre-trained", "Influence function", "SSSE"]
    assert rows[4][0] == "Retrained on $D_{\\mathrm{clean}}$"
    # Pooled over 2 ratios x 2 seeds: l2 in {2, 3, 2, 3}; time 0.1 (1 + s).
    l2 = pm("2.5", f"{np.std([2, 3, 2, 3], ddof=1):.3g}")
    time = pm("0.15", f"{np.std([0.1, 0.2, 0.1, 0.2], ddof=1):.3g}")
    assert rows[0][1][:4] == [pm("-10.0", "0.0"), pm("95.5", "0.6"), l2, time]
    assert rows[1][1] == [
        pm("-5.0", "0.0"),
        pm("95.5", "0.6"),
        l2,
        time,
        pm("10.5", "0.577"),
        pm("50.0", "57.7"),
    ]
    assert rows[2][1][4:] == ["--", "--"]  # SSSE does not solve with CG
    assert rows[4][1][0] == pm("+0.0", "0.0") and rows[4][1][3] == pm("1", "0")
    assert rows_of(tex)["Influence (full)"][0] == pm("-3.0", "0.0")


def test_unlearners_table_without_cg(tmp_path: Path) -> None:
    render(tmp_path / "out", unl=unlearning_df(cg=False))
    tex = texts(tmp_path / "out")["table_ext_unlearners"]
    assert "CG" not in tex and "\\begin{tabular}{lrrrr}" in tex


def test_unlearners_accuracy_table(rendered) -> None:
    tex = rendered["table_ext_unlearners_accuracy"]
    assert spanning(tex) == [
        "\\textit{Forget $D_{\\mathrm{mislabeled}}$}",
        "\\textit{Forget $D_{\\mathrm{detected}}$}",
    ]
    rows = list(rows_of(tex).items())
    assert len(rows) == 1 + 2 * 8 and rows[0][0] == "Pre-trained"
    assert [k for k, _ in rows[1:9]] == [
        "Influence function",
        "SSSE",
        "Fine-tuned",
        "Retrained on $D_{\\mathrm{clean}}$",
        "Influence (full)",
        "SSSE (full)",
        "NegGrad+",
        "Relabel + fine-tune",
    ]
    assert rows[7][1] == [pm("83.2", "0.3")] * 2  # NegGrad+, mislabeled
    assert rows[12][0] == "Retrained" and rows[12][1] == [pm("89.2", "0.3")] * 2


def test_format_cell_extension_kinds() -> None:
    assert format_cell([-0.5, -0.6], "corr") == pm("-0.55", "0.07")
    assert format_cell([0.02, 0.03], "pp") == pm("+2.5", "0.7")
    assert format_cell([0.0512], "fraction") == "0.051"
    assert format_cell([1234.5, 1300.0], "real") == pm("1.27e+03", "46.3")
    with pytest.raises(ValueError, match="correlations in"):
        format_cell([-1.5], "corr")


def test_twin_styles() -> None:
    colors, styles = twin_styles(["loss", "if_self", "if_self_full", "aum"])
    assert colors == {"loss": "C0", "if_self": "C1", "if_self_full": "C1", "aum": "C2"}
    assert styles["if_self_full"] == "--" and styles["if_self"] == "-"


# --- figures -------------------------------------------------------------------------------


def test_figures_show_every_name(tmp_path: Path, monkeypatch) -> None:
    from mislabel.report import extensions

    shown: dict[str, tuple[list[str], str]] = {}

    def capture(fig, out_dir, stem, *, caption, width=0.7):
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
    assert "forget $D_{\\mathrm{detected}}$, estimated $m$" in acc
    assert "over 2 seeds" in caption


# --- LaTeX ---------------------------------------------------------------------------------


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
