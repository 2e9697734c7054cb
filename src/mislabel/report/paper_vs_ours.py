"""The paper's published numbers beside the reproduction's, cell by cell (Tables 5.1-5.3).

The paper's values (`mislabel/paper_results/`, one run per cell) are compared with ours,
the mean and sample standard deviation over the seeds run. The paper prints rounded
numbers, so its value stands for an interval: +-0.005 for an AUC printed with two decimals
or a percentage printed as an integer, +-0.05 points for a percentage with one decimal. A
cell *agrees* when that interval meets mean +- 2 std; a cell of a single seed has no std
and no verdict. Beside that rule stands a calibrated one: the paper's value is one run, so
it is held against the 95% prediction interval of one new run of ours,
mean +- t_{0.975, n-1} std sqrt(1 + 1/n) (`prediction_half_width`), met by the same
printed interval (column agrees_interval). Table 5.2 is the part of Table 5.3 that forgets
D_mislabeled (and the pre-trained row), so its cells are counted within 5.3 as well.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from mislabel.files import atomic
from mislabel.report.cells import LATEX, MARKDOWN, Row, Style
from mislabel.report.frames import DETECTION_COLUMNS, UNLEARNING_COLUMNS, load_results
from mislabel.report.labels import (
    DATASET_LABELS,
    DETECTION_METRICS,
    DETECTOR_LABELS,
    FORGET_LABELS,
    budget_phrase,
    check_metric,
    dataset_label,
    label_of,
    unlearner_label,
)
from mislabel.report.latex import ratio_header, render_grid_tex
from mislabel.report.unlearning_tables import rows_markdown
from mislabel.workflow.artifacts import PAPER_VS_OURS_FILES

# Half a unit of the paper's last printed digit, as a fraction.
HALF_UNIT = {"5.1": 0.005, "5.3": 0.0005}
# How the paper prints a cell, after scaling the fraction: (scale, format).
PAPER_FORMAT = {"auc": (1.0, ".2f"), "percent": (100.0, ".0f"), "accuracy": (100.0, ".1f")}
OURS_FORMAT = {"auc": (1.0, ".2f", ".2f"), "percent": (100.0, ".1f", ".1f")}
COMPARISON_COLUMNS = (
    "table",
    "group",
    "name",
    "ratio",
    "paper",
    "half_unit",
    "mean",
    "std",
    "n_seeds",
    "agrees",
    "agrees_interval",
)
# The coverage of the prediction interval of the calibrated rule.
PREDICTION_LEVEL = 0.95
# Headings of Table 5.3's forget sets; the D_mislabeled half is also Table 5.2.
FORGET_HEADS = {
    "mislabeled": tuple(f"{text} (Table 5.2)" for text in FORGET_LABELS["mislabeled"]),
    "detected": FORGET_LABELS["detected"],
}
TEST_HEADINGS = {
    "accuracy": (r"test accuracy (\%)", "test accuracy (%)"),
    "balanced_accuracy": (r"balanced test accuracy (\%)", "balanced test accuracy (%)"),
}
MARK_LATEX = r"$^{\dagger}$"
MARK_PLAIN = " †"


def _read_packaged(name: str) -> pd.DataFrame:
    text = resources.files("mislabel").joinpath("paper_results", name).read_text()
    return pd.read_csv(io.StringIO(text), dtype={"metric": str, "detector": str})


def load_paper() -> pd.DataFrame:
    """The paper's Tables 5.1 and 5.3 in long form, as fractions.

    Columns: table ("5.1" or "5.3"), group (the metric of 5.1, or the forget set of 5.3:
    none, mislabeled, detected), name (detector or unlearner), ratio, paper (a fraction),
    half_unit (half the last printed digit, as a fraction).
    """
    rows = []
    det = _read_packaged("table_5_1.csv")
    for _, rec in det.iterrows():
        scale = 1.0 if rec["metric"] == "roc_auc" else 100.0
        for col in det.columns[2:]:
            rows.append(("5.1", rec["metric"], rec["detector"], float(col), rec[col] / scale))
    unl = _read_packaged("table_5_2_5_3.csv")
    for _, rec in unl.iterrows():
        for col in unl.columns[2:]:
            rows.append(("5.3", rec["target"], rec["unlearner"], float(col), rec[col] / 100.0))
    out = pd.DataFrame(rows, columns=["table", "group", "name", "ratio", "paper"])
    out["half_unit"] = out["table"].map(HALF_UNIT)
    return out


def prediction_half_width(std: float, n: int, level: float = PREDICTION_LEVEL) -> float:
    """Half the width of the `level` prediction interval of one new draw from n seeds of
    sample std `std` (normal model): t_{(1 + level) / 2, n - 1} std sqrt(1 + 1/n).

    Raises:
      ValueError: for fewer than two seeds (no std) or a level outside (0, 1).
    """
    if n < 2:
        raise ValueError(f"a prediction interval needs at least 2 seeds, got {n}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(stats.t.ppf((1.0 + level) / 2.0, n - 1) * std * np.sqrt(1.0 + 1.0 / n))


def verdict(paper: float, half_unit: float, values: Sequence[float]) -> dict:
    """Our per-seed `values` against the paper's printed `paper` (+- `half_unit`).

    Returns mean, std (ddof=1; NaN for one seed), n_seeds, agrees: True when
    [paper - half_unit, paper + half_unit] meets [mean - 2 std, mean + 2 std], and
    agrees_interval: True when it meets the 95% prediction interval of one new run
    (`prediction_half_width`); both None without a verdict (fewer than two seeds).
    """
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    n = int(arr.size)
    mean = float(arr.mean()) if n else float("nan")
    std = float(arr.std(ddof=1)) if n > 1 else float("nan")
    off = abs(mean - paper) - half_unit - 1e-12
    agrees = None if n < 2 else bool(off <= 2.0 * std)
    interval = None if n < 2 else bool(off <= prediction_half_width(std, n))
    return {"mean": mean, "std": std, "n_seeds": n, "agrees": agrees, "agrees_interval": interval}


def compare(det: pd.DataFrame, unl: pd.DataFrame, value: str = "test_accuracy") -> pd.DataFrame:
    """Every cell of the paper's Tables 5.1 and 5.3 with ours beside it (`COMPARISON_COLUMNS`).

    Args:
      det: the detection summary (dataset, ratio, seed, detector and the metric columns).
      unl: the unlearning summary (dataset, ratio, seed, unlearner, target and `value`).
      value: the test metric column of Table 5.3 (test_accuracy or balanced_accuracy).
    """
    out = []
    for rec in load_paper().itertuples(index=False):
        if rec.table == "5.1":
            ours = det[(det["detector"] == rec.name) & np.isclose(det["ratio"], rec.ratio)]
            values = ours[rec.group].to_numpy()
        else:
            ours = unl[
                (unl["unlearner"] == rec.name)
                & (unl["target"] == rec.group)
                & np.isclose(unl["ratio"], rec.ratio)
            ]
            values = ours[value].to_numpy()
        out.append({**rec._asdict(), **verdict(rec.paper, rec.half_unit, values)})
    return pd.DataFrame(out, columns=list(COMPARISON_COLUMNS))


def in_table(cmp: pd.DataFrame, table: str) -> pd.DataFrame:
    """The cells of Table `table` ("5.1", "5.2" or "5.3"); 5.2 is 5.3 without D_detected."""
    tables = cmp["table"].astype(str)  # a CSV read back without dtypes holds 5.1 as a float
    if table == "5.2":
        return cmp[(tables == "5.3") & (cmp["group"] != "detected")]
    return cmp[tables == table]


def agreement_counts(cmp: pd.DataFrame, rule: str = "agrees") -> dict[str, tuple[int, int, int]]:
    """Per table: (cells that agree, cells with a verdict, cells with a value of ours), under
    `rule`: "agrees" (mean +- 2 std) or "agrees_interval" (the prediction interval)."""
    counts = {}
    for table in ("5.1", "5.2", "5.3"):
        cells = in_table(cmp, table)
        judged = cells[rule].notna()
        counts[table] = (
            int(cells.loc[judged, rule].astype(bool).sum()),
            int(judged.sum()),
            int((cells["n_seeds"] > 0).sum()),
        )
    return counts


def _cell(rec, kind: str, style: Style) -> str:
    p_scale, p_fmt = PAPER_FORMAT["accuracy" if rec.table == "5.3" else kind]
    paper = f"{p_scale * rec.paper:{p_fmt}}"
    scale, m_fmt, s_fmt = OURS_FORMAT[kind]
    if rec.n_seeds == 0:
        ours = "--"
    elif rec.n_seeds == 1:
        ours = f"{scale * rec.mean:{m_fmt}}"
    else:
        ours = f"{scale * rec.mean:{m_fmt}}{style.pm}{scale * rec.std:{s_fmt}}"
    mark = (MARK_LATEX if style is LATEX else MARK_PLAIN) if rec.agrees is False else ""
    return f"{paper} / {ours}{mark}"


def comparison_rows(
    cmp: pd.DataFrame, ratios: Sequence[float], style: Style, metric: str = "accuracy"
) -> list[Row]:
    """Rows of the side-by-side table: Table 5.1 by metric, then Table 5.3 by forget set
    (its heading names the test `metric`)."""
    rows: list[Row] = []

    def cells(sub: pd.DataFrame, kind: str) -> tuple[str, ...]:
        by_ratio = {round(r.ratio, 9): r for r in sub.itertuples(index=False)}
        return tuple(
            _cell(by_ratio[round(r, 9)], kind, style) if round(r, 9) in by_ratio else "--"
            for r in ratios
        )

    t51 = in_table(cmp, "5.1")
    for col, kind, tex_head, plain_head in DETECTION_METRICS:
        rows.append(Row("Table 5.1: " + (tex_head, plain_head)[style.which], kind="group"))
        sub = t51[t51["group"] == col]
        for name in dict.fromkeys(sub["name"]):
            label = label_of(name, DETECTOR_LABELS, style)
            rows.append(Row(label, cells(sub[sub["name"] == name], kind), "sub"))
    t53 = in_table(cmp, "5.3")
    rows.append(Row("Table 5.3: " + TEST_HEADINGS[metric][style.which], kind="group"))
    for group in ("none", "mislabeled", "detected"):
        sub = t53[t53["group"] == group]
        if group in FORGET_HEADS:
            rows.append(Row(FORGET_HEADS[group][style.which], kind="head"))
        for name in dict.fromkeys(sub["name"]):
            label = unlearner_label(name, group, style)
            rows.append(Row(label, cells(sub[sub["name"] == name], "percent"), "sub"))
    return rows


def n_seeds_phrase(cmp: pd.DataFrame) -> str:
    """How many seeds our cells average (a range when cells differ)."""
    counts = sorted(set(cmp.loc[cmp["n_seeds"] > 0, "n_seeds"].astype(int)))
    if not counts:
        return "no runs"
    if len(counts) == 1:
        return f"{counts[0]} seed" + ("s" if counts[0] > 1 else "")
    return f"{counts[0]}-{counts[-1]} seeds"


def counts_phrase(cmp: pd.DataFrame) -> str:
    """'Table 5.1: 80 of 84 cells agree, 82 within the prediction interval; ...' (or why
    there is no verdict); the second count where `cmp` has the calibrated rule's column."""
    parts = []
    calibrated = (
        agreement_counts(cmp, "agrees_interval") if "agrees_interval" in cmp.columns else {}
    )
    for table, (agree, judged, present) in agreement_counts(cmp).items():
        if judged:
            within = (
                f", {calibrated[table][0]} within the prediction interval"
                if table in calibrated
                else ""
            )
            parts.append(f"Table {table}: {agree} of {judged} cells agree{within}")
        else:
            parts.append(f"Table {table}: {present} cells, no verdict with one seed")
    return "; ".join(parts)


def prediction_phrase(style: Style) -> str:
    """The prediction interval's formula, as the caption spells it."""
    if style is LATEX:
        return r"mean $\pm$ $t_{0.975,\,n-1}$ std $\sqrt{1 + 1/n}$"
    return "mean ± t(0.975, n-1) std √(1 + 1/n)"


def caption_text(
    cmp: pd.DataFrame, det: pd.DataFrame, dataset: str, metric: str, style: Style, config: str
) -> str:
    """The caption: what each cell shows, the budget, the test metric and the counts."""
    what = check_metric(metric)[1 + style.which].lower()
    tex = style is LATEX
    data = dataset_label(dataset) if tex else DATASET_LABELS.get(dataset, dataset)
    return (
        f"The paper against this reproduction ({style.escape(config)}) on {data}. Each cell: "
        f"the paper's value (one run) / ours, mean{style.pm}std over {n_seeds_phrase(cmp)}; "
        f"{MARK_LATEX if tex else MARK_PLAIN.strip()}: the paper's value, within its printed "
        f"rounding, lies outside mean{style.pm}2 std. The calibrated rule holds the paper's "
        f"one run against the {style.escape(f'{PREDICTION_LEVEL:.0%}')} prediction interval "
        f"of one new run of "
        f"ours, {prediction_phrase(style)}. Detection flags the top "
        f"{'$m$' if tex else 'm'} ({budget_phrase(det, style)}); Table 5.3 shows {what}. "
        f"{counts_phrase(cmp)}."
    )


def render_paper_vs_ours(
    detection_csv: str | os.PathLike,
    unlearning_csv: str | os.PathLike,
    out_dir: str | os.PathLike,
    comparison_csv: str | os.PathLike,
    *,
    dataset: str = "mnist",
    metric: str = "accuracy",
    config_name: str = "config.yaml",
) -> list[Path]:
    """Write `table_paper_vs_ours.tex` and `.md` into `out_dir`, and every compared cell
    (`COMPARISON_COLUMNS`) to `comparison_csv`.

    Args:
      metric: the test metric of Table 5.3 (`mislabel.report.labels.TEST_METRICS`).
      config_name: how the captions name the configuration that produced the summaries.

    Returns:
      The written paths: the LaTeX table, the Markdown table, the CSV.
    """
    value = check_metric(metric)[0]
    det = load_results(detection_csv, DETECTION_COLUMNS, dataset=dataset)
    unl = load_results(unlearning_csv, (*UNLEARNING_COLUMNS, value), dataset=dataset)
    cmp = compare(det, unl, value)
    ratios = sorted(set(cmp["ratio"]))
    tex = render_grid_tex(
        comparison_rows(cmp, ratios, LATEX, metric),
        ratio_header(ratios),
        caption=caption_text(cmp, det, dataset, metric, LATEX, config_name),
        label="tab:paper-vs-ours",
    )
    md = (
        caption_text(cmp, det, dataset, metric, MARKDOWN, config_name)
        + "\n\n"
        + rows_markdown(comparison_rows(cmp, ratios, MARKDOWN, metric), ratios)
    )
    paths = [Path(out_dir) / name for name in PAPER_VS_OURS_FILES] + [Path(comparison_csv)]
    atomic.write_text(paths[0], tex)
    atomic.write_text(paths[1], md)
    atomic.write_text(paths[2], cmp.to_csv(index=False, float_format="%.6g"))
    return paths
