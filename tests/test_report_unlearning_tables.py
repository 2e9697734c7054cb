"""Tests for mislabel.report.unlearning_tables beyond Tables 5.2-5.3: the estimated budget,
every unlearner compared with retraining on the clean data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from report_data_every import loo_df, pm, render, rows_of, spanning, texts, unlearning_df

from mislabel.report.cells import damping_cell


@pytest.fixture
def rendered(tmp_path: Path) -> dict[str, str]:
    """Render every extension with full data; return the .tex files by stem."""
    render(tmp_path / "out", loo=loo_df())
    return texts(tmp_path / "out")


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
    # 4 metrics + parameter change + 2 CG columns + damping used
    assert "\\begin{tabular}{lrrrrrrrr}" in tex
    assert "CG iter. & CG conv.\\ (\\%) & Damping used \\\\" in tex
    assert "\\rVert_2$ & CG iter." in tex and "how far the method moved" in tex
    assert "per noise ratio $r$ (mean $\\pm$ std over 2 seeds)" in tex
    forget = [
        "\\textit{Forget $D_{\\mathrm{mislabeled}}$}",
        "\\textit{Forget $D_{\\mathrm{detected}}$}",
        "\\textit{Forget $D_{\\mathrm{detected}}$, estimated $m$}",
    ]
    ratios = ["\\textit{Noise ratio $r = 0.05$}", "\\textit{Noise ratio $r = 0.1$}"]
    assert spanning(tex) == [ratios[0], *forget, ratios[1], *forget]
    rows = list(rows_of(tex).items())
    assert [k for k, _ in rows[:3]] == ["Pre-trained", "Influence function", "SSSE"]
    assert rows[4][0] == "Retrained on $D_{\\mathrm{clean}}$"
    # 2 seeds at one ratio: l2 in {2, 3}; time 0.1 (1 + s); moved 1 + 0.5 s. Each column
    # has one number of decimals: two significant digits of its smallest non-zero value.
    l2 = pm("2.5", f"{np.std([2, 3], ddof=1):.1f}")
    time = pm("0.15", f"{np.std([0.1, 0.2], ddof=1):.2f}")
    moved = pm("1.2", f"{np.std([1, 1.5], ddof=1):.1f}")
    assert rows[0][1][:5] == [pm("-10.0", "0.0"), pm("95.5", "0.7"), l2, time, pm("0.0", "0.0")]
    assert rows[1][1] == [
        pm("-5.0", "0.0"),
        pm("95.5", "0.7"),
        l2,
        time,
        moved,
        pm("10", "1"),
        pm("50.0", "70.7"),
        "--",  # the last layer's update records no damping used
    ]
    assert rows[2][1][5:] == ["--", "--", "--"]  # SSSE does not solve with CG
    assert rows[4][1][0] == pm("+0.0", "0.0") and rows[4][1][3] == pm("1.00", "0.00")
    table = rows_of(tex)
    assert table["Influence (full)"][0] == pm("-3.0", "0.0")
    assert table["Influence (full)"][-1] == "1"  # never raised
    assert table["SSSE (full)"][-1] == "1--2 (1 of 2 raised)"  # doubled for seed 1


def test_damping_cell() -> None:
    assert damping_cell([1.0, 2.0, 1.0], [1.0, 1.0, 1.0]) == "1--2 (1 of 3 raised)"
    assert damping_cell([4.0, 4.0], [1.0, 1.0]) == "4 (2 of 2 raised)"
    assert damping_cell([1.0, 1.0], [1.0, 1.0]) == "1"
    assert damping_cell([1.0, 2.0], [np.nan, np.nan]) == "1--2"  # configured not recorded
    assert damping_cell([np.nan], [np.nan]) == "--"
    with pytest.raises(ValueError, match="configured"):
        damping_cell([1.0], [1.0, 1.0])


def test_unlearners_table_without_parameter_change_or_damping(tmp_path: Path) -> None:
    """Summaries written before those columns existed render without them."""
    unl = unlearning_df().drop(columns=["param_l2_to_pretrained", "damping", "damping_used"])
    render(tmp_path / "out", unl=unl)
    tex = texts(tmp_path / "out")["table_ext_unlearners"]
    assert "\\begin{tabular}{lrrrrrr}" in tex
    assert "Damping" not in tex and "theta_{\\mathrm{pre}}" not in tex


def test_unlearners_table_never_pools_noise_ratios(tmp_path: Path) -> None:
    """Each mean ± std is a spread over the seeds at one noise ratio: with a distance of
    10 r + s (seed s), every cell reads 10 r + 0.5 ± 0.7, never the pooled ± 0.6."""
    unl = unlearning_df()
    unl["param_l2_to_retrain_clean"] = 10 * unl["ratio"] + unl["seed"]
    render(tmp_path / "out", unl=unl)
    tex = texts(tmp_path / "out")["table_ext_unlearners"]
    body = tex.split("\\midrule", 1)[1].split("\\bottomrule")[0]
    blocks = body.split("Noise ratio $r = ")[1:]
    assert [b.split("$", 1)[0] for b in blocks] == ["0.05", "0.1"]
    for block, mean in zip(blocks, ["1.00", "1.50"], strict=True):
        cells = [line.split(" & ")[3] for line in block.splitlines() if " & " in line]
        assert len(cells) == 1 + 3 * 8
        assert set(cells) == {pm(mean, "0.71")}
    assert "together" not in tex


def test_unlearners_table_without_cg(tmp_path: Path) -> None:
    render(tmp_path / "out", unl=unlearning_df(cg=False))
    tex = texts(tmp_path / "out")["table_ext_unlearners"]
    assert "CG" not in tex and "\\begin{tabular}{lrrrrrr}" in tex


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


def test_the_tiny_run_records_parameter_change_and_damping() -> None:
    """The evaluate stage's parameter change is the distance to the pre-trained model: zero
    for it, and for the model retrained on D_clean the pre-trained model's distance to that
    model; the closed-form full-network updates record the damping configured and used."""
    import pandas as pd

    unl = pd.read_csv(Path(__file__).parent / "data/tiny_summaries/unlearning.csv")
    pre = unl[unl["unlearner"] == "pretrained"].set_index("seed")
    clean = unl[(unl["unlearner"] == "retrain") & (unl["target"] == "mislabeled")]
    assert (pre["param_l2_to_pretrained"] == 0).all()
    np.testing.assert_allclose(
        clean.set_index("seed")["param_l2_to_pretrained"], pre["param_l2_to_retrain_clean"]
    )
    full = unl[unl["unlearner"] == "influence_full"]
    assert (full["damping"] > 0).all() and (full["damping_used"] >= full["damping"]).all()
    assert unl.loc[unl["unlearner"] == "finetune", "damping_used"].isna().all()
