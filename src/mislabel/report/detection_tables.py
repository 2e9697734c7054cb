"""Detection tables: Table 5.1 (the paper's detectors), every detector, and the estimated
noise ratio that sets the budget.

Rows are built by pure functions that return `Row`s; `mislabel.report.latex` lays them out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mislabel.report.cells import LATEX, Row, Style, cells_by_ratio, format_cell
from mislabel.report.frames import estimators, n_seeds, paper_detection, sorted_ratios
from mislabel.report.labels import (
    DETECTION_METRICS,
    DETECTOR_LABELS,
    EXT_DETECTION_METRICS,
    EXT_DETECTORS,
    NOT_RUN,
    budget_phrase,
    dataset_label,
    label_of,
    ordered,
    per_ratio,
    ratio_label,
    seed_phrase,
    with_note,
)
from mislabel.report.latex import note_row, render_grid_tex, render_table_tex


def detection_rows(
    df: pd.DataFrame,
    ratios: Sequence[float],
    style: Style = LATEX,
    *,
    metrics: Sequence[tuple[str, str, str, str]] = DETECTION_METRICS,
    known: Sequence[str] = tuple(DETECTOR_LABELS),
) -> list[Row]:
    """Table 5.1: per metric group (column, kind, LaTeX and plain heading), one row per
    detector present, known detectors in the order of `known`."""
    detectors = ordered(df["detector"], known)
    out: list[Row] = []
    for col, kind, tex_head, plain_head in metrics:
        out.append(Row((tex_head, plain_head)[style.which], kind="group"))
        for det in detectors:
            sub = df[df["detector"] == det]
            cells = cells_by_ratio(sub, col, kind, ratios, style)
            out.append(Row(label_of(det, DETECTOR_LABELS, style), cells, "sub"))
    return out


def table_5_1_tex(det: pd.DataFrame, dataset: str) -> str:
    """Table 5.1: detection metrics per paper detector and noise ratio."""
    det = paper_detection(det)
    ratios = sorted_ratios(det)
    caption = (
        f"Detection of mislabeled training samples on {dataset_label(dataset)}: ROC AUC, and "
        rf"accuracy and precision (\%) of the top-$m$ flags ({budget_phrase(det)}), "
        + per_ratio(n_seeds(det), "detector")
    )
    return render_table_tex(detection_rows(det, ratios), ratios, caption=caption, label="tab:5-1")


def detectors_table(det: pd.DataFrame, dataset: str) -> str:
    """ROC AUC and precision (top-m flags) of every detector, per noise ratio."""
    ratios = sorted_ratios(det)
    rows = detection_rows(det, ratios, metrics=EXT_DETECTION_METRICS, known=EXT_DETECTORS)
    caption = (
        f"Every detector on {dataset_label(dataset)}, those of the paper and those beyond it "
        "(the area under the margin, AUM; confident learning; influence scores with the "
        "Hessian of the full network instead of the last layer): ROC AUC, and precision "
        rf"(\%) of the top-$m$ flags ({budget_phrase(det)}), " + per_ratio(n_seeds(det))
    )
    return render_table_tex(rows, ratios, caption=caption, label="tab:ext-detectors")


def budget_rows(det: pd.DataFrame, names: Sequence[str], style: Style = LATEX) -> list[Row]:
    """Per nominal ratio: actual flipped fraction, then the estimated ratio of each of `names`."""
    runs = det.drop_duplicates(subset=["ratio", "seed"])
    out = []
    for ratio in sorted_ratios(det):
        at = np.isclose(det["ratio"], ratio)
        flipped = runs.loc[np.isclose(runs["ratio"], ratio), "flipped_ratio"]
        cells = [format_cell(flipped, "fraction", pm=style.pm)]
        for name in names:
            values = det.loc[at & (det["detector"] == name), "estimated_ratio"]
            cells.append(format_cell(values, "fraction", pm=style.pm))
        out.append(Row(ratio_label(ratio), tuple(cells)))
    return out


def budget_table(det: pd.DataFrame, dataset: str) -> str:
    """Per nominal ratio: actual flipped fraction and each detector's estimated ratio."""
    names = estimators(det)
    missing = not names
    header = ["$r$", "Flipped (actual)", *(label_of(n, DETECTOR_LABELS, LATEX) for n in names)]
    spans = [("", 2), (r"Estimated ratio $\hat{r}$", len(names))] if names else []
    rows = budget_rows(det, names) + ([note_row("budget estimation " + NOT_RUN)] if missing else [])
    used = det[det["detector"].isin(names)] if names else det
    caption = (
        f"Estimating the noise ratio without knowing it, on {dataset_label(dataset)}: per "
        "nominal noise ratio $r$, the actual fraction of flipped labels and the fraction of "
        r"mislabeled samples $\hat{r}$ estimated by each detector that can estimate it, "
        r"which sets the budget $\hat{m}$ "
        f"({seed_phrase(n_seeds(used))})."
    )
    return render_grid_tex(
        rows, header, caption=with_note(caption, missing), label="tab:ext-budget", spans=spans
    )
