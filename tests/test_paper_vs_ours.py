"""The paper-vs-ours table: the packaged numbers, the verdict rule, counts, LaTeX/Markdown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mislabel.report.paper_vs_ours import (
    agreement_counts,
    compare,
    load_paper,
    prediction_half_width,
    render_paper_vs_ours,
    verdict,
)

RATIOS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)


def test_packaged_numbers_are_the_papers_tables():
    paper = load_paper()
    assert len(paper[paper["table"] == "5.1"]) == 3 * 4 * 7  # metrics x detectors x ratios
    assert len(paper[paper["table"] == "5.3"]) == 9 * 7  # pre-trained + 4 unlearners x 2 sets

    def cell(table, group, name, ratio):
        hit = paper[
            (paper["table"] == table)
            & (paper["group"] == group)
            & (paper["name"] == name)
            & np.isclose(paper["ratio"], ratio)
        ]
        assert len(hit) == 1
        return float(hit["paper"].iloc[0])

    # a few cells typed from the paper, as fractions
    assert cell("5.1", "roc_auc", "loss", 0.3) == pytest.approx(0.83)
    assert cell("5.1", "precision", "if_train_minus_z", 0.01) == pytest.approx(0.85)
    assert cell("5.3", "none", "pretrained", 0.5) == pytest.approx(0.450)
    assert cell("5.3", "detected", "retrain", 0.5) == pytest.approx(0.389)
    assert cell("5.3", "mislabeled", "ssse", 0.3) == pytest.approx(0.957)
    assert set(paper.loc[paper["table"] == "5.1", "half_unit"]) == {0.005}
    assert set(paper.loc[paper["table"] == "5.3", "half_unit"]) == {0.0005}


def test_verdict_uses_two_std_and_the_printed_rounding():
    values = [0.80, 0.82, 0.84]  # mean 0.82, sample std 0.02: mean +- 2 std = [0.78, 0.86]
    got = verdict(0.865, 0.005, values)
    assert got["mean"] == pytest.approx(0.82) and got["std"] == pytest.approx(0.02)
    assert got["n_seeds"] == 3
    assert got["agrees"] is True  # [0.860, 0.870] touches 0.86
    assert verdict(0.87, 0.005, values)["agrees"] is False  # [0.865, 0.875] misses
    assert verdict(0.775, 0.005, values)["agrees"] is True
    assert verdict(0.77, 0.0, values)["agrees"] is False
    one = verdict(0.5, 0.005, [0.9, float("nan")])  # NaN ignored: one seed, no verdict
    assert one["n_seeds"] == 1 and one["agrees"] is None and np.isnan(one["std"])
    none = verdict(0.5, 0.005, [])
    assert none["n_seeds"] == 0 and none["agrees"] is None


def summaries(shift_51: float, shift_53: float, seeds=(0, 1)):
    """Our summaries equal to the paper's values, moved by a shift with a +-0.001 spread."""
    paper = load_paper()
    det_rows, unl_rows = [], []
    for seed in seeds:
        spread = 0.001 if seed % 2 else -0.001
        for _, rec in paper[paper["table"] == "5.1"].iterrows():
            det_rows.append(
                {
                    "dataset": "mnist",
                    "ratio": rec["ratio"],
                    "seed": seed,
                    "detector": rec["name"],
                    "budget": "oracle",
                    rec["group"]: float(np.clip(rec["paper"] + shift_51 + spread, 0, 1)),
                }
            )
        for _, rec in paper[paper["table"] == "5.3"].iterrows():
            value = float(np.clip(rec["paper"] + shift_53 + spread, 0, 1))
            unl_rows.append(
                {
                    "dataset": "mnist",
                    "ratio": rec["ratio"],
                    "seed": seed,
                    "unlearner": rec["name"],
                    "target": rec["group"],
                    "test_accuracy": value,
                    "balanced_accuracy": 1.0 - value,
                }
            )
    keys = ["dataset", "ratio", "seed", "detector"]
    det = pd.DataFrame(det_rows).groupby(keys, as_index=False).first()
    return det, pd.DataFrame(unl_rows).drop_duplicates()


def test_prediction_half_width_by_hand():
    """t_{0.975, n-1} sd sqrt(1 + 1/n), with t from scipy and from printed tables."""
    from scipy import stats

    # n = 5: t_{0.975, 4} = 2.776445 (tables: 2.776); sd 0.17 -> 0.17 * 2.776445 * sqrt(1.2)
    assert stats.t.ppf(0.975, 4) == pytest.approx(2.776445, abs=1e-6)
    assert prediction_half_width(0.17, 5) == pytest.approx(0.17 * 2.776445 * np.sqrt(1.2))
    assert prediction_half_width(0.17, 5) == pytest.approx(0.5170, abs=1e-4)
    # n = 2: t_{0.975, 1} = 12.706205; n = 30: t_{0.975, 29} = 2.045230
    assert prediction_half_width(1.0, 2) == pytest.approx(12.706205 * np.sqrt(1.5), rel=1e-6)
    assert prediction_half_width(1.0, 30) == pytest.approx(2.045230 * np.sqrt(31 / 30), rel=1e-6)
    assert prediction_half_width(0.5, 10, level=0.9) == pytest.approx(
        stats.t.ppf(0.95, 9) * 0.5 * np.sqrt(1.1)
    )
    with pytest.raises(ValueError, match="2 seeds"):
        prediction_half_width(1.0, 1)
    with pytest.raises(ValueError, match="level"):
        prediction_half_width(1.0, 5, level=1.0)


def test_verdict_under_the_prediction_interval():
    values = [0.80, 0.82, 0.84]  # mean 0.82, std 0.02; n = 3: t_{0.975, 2} = 4.302653
    half = 4.302653 * 0.02 * np.sqrt(4 / 3)  # 0.09937
    inside = verdict(0.82 + half + 0.004, 0.005, values)
    assert inside["agrees_interval"] is True and inside["agrees"] is False  # 2 std: 0.04
    outside = verdict(0.82 + half + 0.006, 0.005, values)
    assert outside["agrees_interval"] is False
    assert verdict(0.5, 0.005, [0.9])["agrees_interval"] is None


def test_compare_counts_agreeing_cells():
    det, unl = summaries(0.0, 0.0)
    counts = agreement_counts(compare(det, unl))
    # every 5.1 cell agrees: |mean - paper| = 0 (the spread is symmetric)
    assert counts["5.1"] == (84, 84, 84)
    assert counts["5.3"] == (63, 63, 63)
    assert counts["5.2"] == (35, 35, 35)  # pre-trained + 4 unlearners on D_mislabeled
    det, unl = summaries(0.02, 0.0)  # 2 std = 0.0028 + 0.005 < 0.02: every 5.1 cell misses
    cmp = compare(det, unl)
    clipped = cmp[(cmp["table"] == "5.1") & (cmp["paper"] >= 0.98)]  # clipped at 1.0
    assert agreement_counts(cmp)["5.1"][0] == int(clipped["agrees"].sum())
    assert agreement_counts(cmp)["5.3"] == (63, 63, 63)


def test_compare_reads_the_chosen_test_metric():
    det, unl = summaries(0.0, 0.0)
    cmp = compare(det, unl, value="balanced_accuracy")  # 1 - paper: agrees only near 0.5
    t53 = cmp[cmp["table"] == "5.3"]
    expected = (np.abs(1 - 2 * t53["paper"]) <= 2 * t53["std"] + 0.0005 + 1e-12).to_numpy()
    np.testing.assert_array_equal(t53["agrees"].astype(bool).to_numpy(), expected)


def test_single_seed_has_no_verdict_and_missing_cells_show_dashes(tmp_path: Path):
    det, unl = summaries(0.0, 0.0, seeds=(0,))
    det = det[det["ratio"] != 0.5]
    det.to_csv(tmp_path / "det.csv", index=False)
    unl.to_csv(tmp_path / "unl.csv", index=False)
    tex, md, csv = render_paper_vs_ours(
        tmp_path / "det.csv", tmp_path / "unl.csv", tmp_path, tmp_path / "cmp.csv"
    )
    text = md.read_text()
    assert "no verdict with one seed" in text and "†" not in text.split("\n\n", 1)[1]
    assert "1.00 / --" not in text  # r = 0.01 is present
    assert "| &nbsp;&nbsp;Loss | 1.00 / 1.00 |" in text  # one seed: no std
    assert text.count(" / --") == 12  # the 12 rows of Table 5.1 lack r = 0.5
    assert pd.read_csv(csv)["agrees"].isna().all()


def test_render_marks_disagreeing_cells_in_latex_and_markdown(tmp_path: Path):
    det, unl = summaries(0.0, 0.0)
    far = (unl["unlearner"] == "ssse") & (unl["target"] == "detected") & (unl["ratio"] == 0.3)
    unl.loc[far, "test_accuracy"] = [0.50, 0.52]  # the paper: 74.0
    det.to_csv(tmp_path / "det.csv", index=False)
    unl.to_csv(tmp_path / "unl.csv", index=False)
    tex, md, csv = render_paper_vs_ours(
        tmp_path / "det.csv",
        tmp_path / "unl.csv",
        tmp_path / "paper",
        tmp_path / "summary" / "cmp.csv",
        config_name="configs/authors_code.yaml",
    )
    assert [tex.name, md.name] == ["table_paper_vs_ours.tex", "table_paper_vs_ours.md"]
    latex, markdown = tex.read_text(), md.read_text()
    assert r"74.0 / 51.0 $\pm$ 1.4$^{\dagger}$" in latex
    assert "74.0 / 51.0 ± 1.4 †" in markdown
    assert latex.count(r"$^{\dagger}$") == 2  # the cell and the caption's legend
    for text in (latex, markdown):
        assert "Table 5.1: 84 of 84 cells agree, 84 within the prediction interval" in text
        assert "Table 5.2: 35 of 35 cells agree, 35 within the prediction interval" in text
        assert "Table 5.3: 62 of 63 cells agree, 62 within the prediction interval" in text
        assert "prediction interval of one new run of ours" in text
        assert "oracle budget" in text and "over 2 seeds" in text
    assert r"configs/authors\_code.yaml" in latex and "configs/authors_code.yaml" in markdown
    cmp = pd.read_csv(csv)
    assert len(cmp) == 147 and int((cmp["agrees"] == False).sum()) == 1  # noqa: E712
    assert int((cmp["agrees_interval"] == False).sum()) == 1  # noqa: E712
    assert r"95\% prediction interval" in latex and r"t_{0.975,\,n-1}" in latex
