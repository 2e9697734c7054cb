"""Tests for mislabel.report.curves: accuracy and ROC AUC against the noise ratio."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from report_data_paper import PAPER_UNLEARNERS, detection_df, unlearning_df, write

from mislabel.report import render_curves
from mislabel.report.curves import twin_styles


@pytest.fixture
def csvs(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write(detection_df(), tmp_path / "detection.csv"),
        write(unlearning_df(), tmp_path / "unlearning.csv"),
    )


def test_render_curves(csvs, tmp_path: Path) -> None:
    written = render_curves(*csvs, tmp_path)
    assert sorted(p.name for p in written) == sorted(
        f"fig_{k}_vs_ratio{e}" for k in ("accuracy", "auc") for e in (".pdf", ".png", ".tex")
    )
    assert all(p.stat().st_size > 0 for p in written)
    assert "over 2 seeds" in (tmp_path / "fig_auc_vs_ratio.tex").read_text()


def test_paper_curves_are_paper_only(tmp_path: Path, monkeypatch) -> None:
    from mislabel.report import curves

    shown: dict[str, list[str]] = {}

    def capture(fig, out_dir, stem, **kwargs):
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
        shown[stem] = [text.get_text() for legend in legends for text in legend.get_texts()] + [
            ax.get_title() for ax in fig.axes
        ]
        return []

    monkeypatch.setattr(curves, "save_figure", capture)
    det = detection_df()
    unl = unlearning_df(unlearners=(*PAPER_UNLEARNERS, "relabel"))
    estimated = unl[unl["target"] == "detected"].assign(target="detected_estimated")
    curves.render_curves(
        write(det, tmp_path / "d.csv"),
        write(pd.concat([unl, estimated]), tmp_path / "u.csv"),
        tmp_path,
    )
    assert "aum" not in shown["fig_auc_vs_ratio"] and "Loss" in shown["fig_auc_vs_ratio"]
    acc = shown["fig_accuracy_vs_ratio"]
    assert "Relabel + fine-tune" not in acc and "SSSE" in acc
    assert [t for t in acc if t.startswith("forget")] == [
        "forget $D_{\\mathrm{mislabeled}}$",
        "forget $D_{\\mathrm{detected}}$",
    ]


def test_twin_styles() -> None:
    colors, styles = twin_styles(["loss", "if_self", "if_self_full", "aum"])
    assert colors == {"loss": "C0", "if_self": "C1", "if_self_full": "C1", "aum": "C2"}
    assert styles["if_self_full"] == "--" and styles["if_self"] == "-"
