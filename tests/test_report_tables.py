"""Tests for mislabel.report.render: Tables 5.1-5.3 as rendered by render_tables."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_data_paper import PAPER_UNLEARNERS, body_rows, detection_df, unlearning_df, write

from mislabel.report import render_tables, table_markdown


@pytest.fixture
def csvs(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write(detection_df(), tmp_path / "detection.csv"),
        write(unlearning_df(), tmp_path / "unlearning.csv"),
    )


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
    labels = [row.split(" & ")[0].removeprefix("\\quad ") for row in body_rows(tex)]
    detectors = [
        "Loss",
        "$I_{\\mathrm{up,loss}}(z, z)$",
        "$I_{\\mathrm{up,loss}}(D_{\\mathrm{train}}, z)$",
        "$I_{\\mathrm{up,loss}}(D_{\\mathrm{train}} \\setminus z, z)$",
    ]  # "aum" is beyond the paper: not in Table 5.1
    assert labels == detectors * 3
    loss_auc = body_rows(tex)[0].split(" & ")[1]
    assert re.fullmatch(r"0\.\d\d \$\\pm\$ 0\.\d\d", loss_auc)
    pct = body_rows(tex)[len(detectors)].split(" & ")[1]
    assert re.fullmatch(r"\d+\.\d \$\\pm\$ \d+\.\d", pct)


def test_table_5_2_and_5_3_rows(csvs, tmp_path: Path) -> None:
    _, t2, t3 = (p.read_text() for p in render_tables(*csvs, tmp_path))
    assert [r.split(" & ")[0] for r in body_rows(t2)] == [
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
    for unlearner in ("Influence function", "SSSE", "Fine-tuned", "Retrained"):
        expected += [unlearner, *subs]
    assert [h.split(" & ")[0] for h in heads] == expected


def test_captions_name_the_budget_and_tables_use_the_chosen_metric(tmp_path: Path) -> None:
    det = detection_df()
    unl = unlearning_df()
    unl["balanced_accuracy"] = 1.0 - unl["test_accuracy"]  # in [0, 0.2]: tells them apart
    unl_csv = write(unl, tmp_path / "unlearning.csv")
    nominal = render_tables(write(det, tmp_path / "detection.csv"), unl_csv, tmp_path / "a")
    caption = nominal[0].read_text()  # no budget column: summaries of the nominal budget
    assert r"$m = \mathrm{round}(nr)$, the nominal budget" in caption
    det["budget"] = "oracle"
    oracle = render_tables(
        write(det, tmp_path / "detection.csv"), unl_csv, tmp_path / "b", metric="balanced_accuracy"
    )
    t51, t52, t53 = (p.read_text() for p in oracle)
    assert "$m$ = the number of flipped labels, the oracle budget" in t51
    assert "the oracle budget" in t53 and "Balanced test accuracy" in t52
    pre = unl[(unl["unlearner"] == "pretrained") & np.isclose(unl["ratio"], 0.01)]
    mean, std = 100 * pre["balanced_accuracy"].mean(), 100 * pre["balanced_accuracy"].std()
    assert body_rows(t52)[0].split(" & ")[1] == f"{mean:.1f} $\\pm$ {std:.1f}"
    with pytest.raises(ValueError, match="unknown test metric 'f1'"):
        render_tables(tmp_path / "detection.csv", unl_csv, tmp_path / "c", metric="f1")


def test_one_seed_missing_cells_and_subset_of_methods(tmp_path: Path) -> None:
    det = detection_df(seeds=(0,))
    det = det[~((det["detector"] == "loss") & (det["ratio"] == 0.3))]
    unl = unlearning_df(seeds=(3,), unlearners=("retrain", "influence"))
    paths = render_tables(write(det, tmp_path / "d.csv"), write(unl, tmp_path / "u.csv"), tmp_path)
    t1, t2, t3 = (p.read_text() for p in paths)
    assert "(1 seed)" in t1 and "\\pm" not in t1.split("\\midrule", 1)[1]
    loss_auc = body_rows(t1)[0]
    assert loss_auc.startswith("\\quad Loss &") and loss_auc.endswith("& -- \\\\")
    assert re.fullmatch(r"\\quad Loss & 0\.\d\d & 0\.\d\d & -- \\\\", loss_auc)
    assert "SSSE" not in t2 and "Fine-tuned" not in t3
    assert len(body_rows(t2)) == 3  # pretrained, influence, retrain


def test_tables_5_x_are_paper_only(tmp_path: Path) -> None:
    det = detection_df()
    det.loc[det["detector"] == "aum", "detector"] = "my_det&1"  # unknown: left out too
    extra = detection_df()
    extra = extra[extra["detector"] == "if_self"].assign(detector="if_self_full")
    unl = unlearning_df(unlearners=(*PAPER_UNLEARNERS, "neggrad_plus", "ssse_full"))
    estimated = unl[unl["target"] == "detected"].assign(target="detected_estimated")
    paths = render_tables(
        write(pd.concat([det, extra]), tmp_path / "d.csv"),
        write(pd.concat([unl, estimated]), tmp_path / "u.csv"),
        tmp_path,
    )
    t1, t2, t3 = (p.read_text() for p in paths)
    assert "my" not in t1 and "full network" not in t1 and len(body_rows(t1)) == 3 * 4
    for tex in (t2, t3):
        assert "NegGrad" not in tex and "SSSE (full)" not in tex and "estimated" not in tex
    assert len(body_rows(t2)) == 5 and len(body_rows(t3)) == 1 + 4 * 2
    assert "(mean $\\pm$ std over 2 seeds)" in t3
    md = table_markdown(write(pd.concat([unl, estimated]), tmp_path / "u.csv"))
    assert "NegGrad" not in md and len(md.strip().splitlines()) == 2 + 5


def test_missing_columns_are_named(csvs, tmp_path: Path) -> None:
    det = pd.read_csv(csvs[0]).drop(columns=["roc_auc", "precision"])
    with pytest.raises(ValueError, match="roc_auc, precision"):
        render_tables(write(det, tmp_path / "bad.csv"), csvs[1], tmp_path)
    unl = pd.read_csv(csvs[1]).drop(columns=["target"])
    with pytest.raises(ValueError, match="target"):
        render_tables(csvs[0], write(unl, tmp_path / "bad2.csv"), tmp_path)


def test_no_rows_for_dataset(csvs, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no rows for dataset 'cifar10'"):
        render_tables(*csvs, tmp_path, dataset="cifar10")


def test_duplicate_rows_rejected(csvs, tmp_path: Path) -> None:
    det = pd.read_csv(csvs[0])
    det = pd.concat([det, det.iloc[:1]])
    with pytest.raises(ValueError, match="duplicate"):
        render_tables(write(det, tmp_path / "dup.csv"), csvs[1], tmp_path)
