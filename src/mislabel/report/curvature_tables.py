"""Curvature tables: the last layer's Hessian against the full network's (detection and
unlearning side by side), and the leave-k-out validation of the influence approximation."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mislabel import registry
from mislabel.report.captions import per_ratio, seed_phrase
from mislabel.report.cells import LATEX, Row, Style, cells_by_ratio, count_cell, format_cell
from mislabel.report.frames import all_ratios, has_values, n_seeds, seeds_of, sorted_ratios
from mislabel.report.labels import (
    CURVATURE_SCOPES,
    DETECTOR_LABELS,
    SCOPE_LABELS,
    UNLEARNER_LABELS,
    dataset_label,
    label_of,
    ordered,
    ratio_label,
)
from mislabel.report.latex import finish_table, note_row, ratio_header


def curvature_rows(
    df: pd.DataFrame,
    by: str,
    bases: Sequence[str],
    value: str,
    kind: str,
    ratios: Sequence[float],
) -> list[Row]:
    """Per base name whose full-network twin is in `df`: a heading, then a last-layer and a
    full-network sub-row (cells per ratio); a note row if no twin is present."""
    labels = DETECTOR_LABELS if by == "detector" else UNLEARNER_LABELS
    present = set(df[by])
    out: list[Row] = []
    for base in bases:
        if base + registry.FULL_SUFFIX not in present:
            continue
        out.append(Row(label_of(base, labels, LATEX), kind="head"))
        for name, scope in zip((base, base + registry.FULL_SUFFIX), CURVATURE_SCOPES, strict=True):
            cells = cells_by_ratio(df[df[by] == name], value, kind, ratios, LATEX)
            out.append(Row(scope, cells, "sub"))
    return out or [note_row()]


def curvature_table(det: pd.DataFrame, unl: pd.DataFrame, dataset: str) -> str:
    """Last layer vs full network: detection AUC and Experiment 2/3 accuracy, per ratio."""
    ratios = all_ratios(det, unl)
    groups = (
        ("Detection: ROC AUC", det, "detector", registry.INFLUENCE_DETECTORS, "roc_auc", "auc"),
        (
            r"Experiment 2: test accuracy (\%), forget $D_{\mathrm{mislabeled}}$",
            unl[unl["target"] == "mislabeled"],
            "unlearner",
            registry.CLOSED_FORM_UNLEARNERS,
            "test_accuracy",
            "percent",
        ),
        (
            r"Experiment 3: test accuracy (\%), forget $D_{\mathrm{detected}}$",
            unl[unl["target"] == "detected"],
            "unlearner",
            registry.CLOSED_FORM_UNLEARNERS,
            "test_accuracy",
            "percent",
        ),
    )
    full = [
        df[df[by].isin([b + registry.FULL_SUFFIX for b in bases])]
        for _, df, by, bases, _, _ in groups
    ]
    rows: list[Row] | None = None
    if not all(df.empty for df in full):
        rows = []
        for title, df, by, bases, value, kind in groups:
            rows.append(Row(title, kind="group"))
            rows += curvature_rows(df, by, bases, value, kind, ratios)
    used = [
        df[df[by].isin([*bases, *(b + registry.FULL_SUFFIX for b in bases)])]
        for _, df, by, bases, _, _ in groups
    ]
    caption = (
        f"Curvature of the last layer versus the full network on {dataset_label(dataset)}, "
        "side by side: detection ROC AUC of the three influence scores, and test accuracy "
        r"(\%) after forgetting $D_{\mathrm{mislabeled}}$ (Experiment 2) or "
        r"$D_{\mathrm{detected}}$ (Experiment 3) with influence-function and SSSE "
        "unlearning, each with the Hessian of the last layer or of all parameters, "
        + per_ratio(seeds_of(*used))
    )
    return finish_table(rows, ratio_header(ratios), caption=caption, label="tab:ext-curvature")


# The leave-k-out table's headings, LaTeX and plain; "Slope" only where it was measured.
LOO_HEADER: tuple[tuple[str, str], ...] = (
    ("Scope", "scope"),
    ("$k$", "k"),
    ("Seeds", "seeds"),
    ("Retrainings", "retrainings"),
    ("Pearson", "Pearson"),
    ("Spearman", "Spearman"),
    ("Slope", "slope"),
)


def has_slope(loo: pd.DataFrame) -> bool:
    return "slope" in loo.columns and has_values(loo, "slope")


def loo_header(with_slope: bool, style: Style = LATEX) -> list[str]:
    heads = [head[style.which] for head in LOO_HEADER]
    return heads if with_slope else heads[:-1]


def loo_rows(loo: pd.DataFrame, with_slope: bool, style: Style = LATEX) -> list[Row]:
    """One row per (scope, number removed): seeds, retrainings per seed, correlations."""
    out = []
    for scope in ordered(loo["scope"], list(SCOPE_LABELS)):
        rows = loo[loo["scope"] == scope]
        for k in sorted(rows["n_removed"].unique()):
            sub = rows[rows["n_removed"] == k]
            cells = [
                f"{k:g}",
                str(n_seeds(sub)),
                count_cell(sub["n_runs"]),
                format_cell(sub["pearson"], "corr", pm=style.pm),
                format_cell(sub["spearman"], "corr", pm=style.pm),
            ]
            if with_slope:
                cells.append(format_cell(sub["slope"], "real", pm=style.pm))
            out.append(Row(label_of(scope, SCOPE_LABELS, style), tuple(cells)))
    return out


def loo_ratio_phrase(loo: pd.DataFrame) -> str:
    """Caption phrase for the noise ratio(s) the leave-k-out runs used."""
    ratios = ", ".join(ratio_label(r) for r in sorted_ratios(loo))
    if loo["ratio"].nunique() == 1:
        return f", at noise ratio $r = {ratios}$"
    return rf", pooled over noise ratios $r \in \{{{ratios}\}}$"


def loo_table(loo: pd.DataFrame, dataset: str) -> str:
    """Predicted vs actual leave-k-out loss change: correlations per curvature scope."""
    with_slope = has_slope(loo)
    header = loo_header(with_slope)
    missing = loo.empty
    rows = None if missing else loo_rows(loo, with_slope)
    caption = (
        f"Leave-$k$-out validation of the influence approximation on {dataset_label(dataset)}: "
        "Pearson and Spearman correlation between the predicted and the actual change of the "
        "loss when $k$ training samples are removed and the model is retrained "
        "(retrainings: leave-$k$-out runs per seed), per curvature scope"
        + (", and the slope of actual on predicted change" if with_slope else "")
        + ("" if missing or "ratio" not in loo.columns else loo_ratio_phrase(loo))
        + ("" if missing else f" ({seed_phrase(n_seeds(loo))})")
        + "."
    )
    return finish_table(rows, header, caption=caption, label="tab:ext-loo")
