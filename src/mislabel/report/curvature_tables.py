"""Curvature tables: the last layer's Hessian against the full network's (detection and
unlearning side by side), the leave-k-out validation of the influence approximation, and
how the paper's closed-form updates move with the pseudo-inverse's cut-off rtol
(`mislabel.stages.rtol`; `render_rtol`, a Markdown table for docs/paper.md: test accuracy
per noise ratio and the step's size relative to the last layer's kernel, per rtol)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mislabel import registry
from mislabel.files.atomic import write_text
from mislabel.registry import TARGETS
from mislabel.report.cells import (
    LATEX,
    MARKDOWN,
    Row,
    Style,
    cells_by_ratio,
    column_decimals,
    count_cell,
    format_cell,
    grid_markdown,
)
from mislabel.report.frames import all_ratios, has_values, n_seeds, seeds_of, sorted_ratios
from mislabel.report.labels import (
    CURVATURE_SCOPES,
    DETECTOR_LABELS,
    SCOPE_LABELS,
    TARGET_LABELS,
    UNLEARNER_LABELS,
    dataset_label,
    label_of,
    ordered,
    per_ratio,
    ratio_heading,
    ratio_label,
    seed_phrase,
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
    """One row per (scope, number removed): seeds, retrainings per seed, correlations; a
    block of rows per noise ratio (under a heading when there are several), so a ± is
    always a spread over the seeds at one ratio."""
    out = []
    slope_decimals = column_decimals(loo["slope"]) if with_slope else None
    ratios = sorted_ratios(loo) if "ratio" in loo.columns else [None]
    for ratio in ratios:
        at = loo if ratio is None else loo[np.isclose(loo["ratio"], ratio)]
        if len(ratios) > 1:
            out.append(Row(ratio_heading(ratio, style), kind="group"))
        for scope in ordered(at["scope"], list(SCOPE_LABELS)):
            rows = at[at["scope"] == scope]
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
                    cells.append(
                        format_cell(sub["slope"], "real", pm=style.pm, decimals=slope_decimals)
                    )
                out.append(Row(label_of(scope, SCOPE_LABELS, style), tuple(cells)))
    return out


def loo_ratio_phrase(loo: pd.DataFrame) -> str:
    """Caption phrase for the noise ratio(s) the leave-k-out runs used."""
    ratios = ", ".join(ratio_label(r) for r in sorted_ratios(loo))
    if loo["ratio"].nunique() == 1:
        return f", at noise ratio $r = {ratios}$"
    return rf", per noise ratio $r \in \{{{ratios}\}}$"


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


def rtol_table(rtol_csv: str | os.PathLike) -> str:
    """The table: a group per (update, forget set), a row per rtol."""
    df = pd.read_csv(rtol_csv)
    ratios = sorted(df["ratio"].unique())
    seeds = df["seed"].nunique()
    rows = []
    for unlearner in dict.fromkeys(df["unlearner"]):
        for target in [t for t in TARGETS if t in set(df["target"])]:
            part = df[(df.unlearner == unlearner) & (df.target == target)]
            if part.empty:
                continue
            heading = (
                f"{label_of(unlearner, UNLEARNER_LABELS, MARKDOWN)} "
                f"{TARGET_LABELS[target][MARKDOWN.which]}"
            )
            rows.append(Row(heading, kind="group"))
            for rtol in sorted(part["rtol"].unique()):
                at = part[np.isclose(part.rtol, rtol, rtol=1e-9, atol=0.0)]
                cells = tuple(
                    format_cell(
                        at.loc[np.isclose(at.ratio, r), "test_accuracy"], "percent", pm=MARKDOWN.pm
                    )
                    for r in ratios
                )
                steps = at["step_norm_relative"]
                step = f"{float(np.median(steps)):.3g} ({float(np.max(steps)):.3g})"
                low, high = int(at["rank"].min()), int(at["rank"].max())
                rank = f"{low}" if low == high else f"{low}-{high}"
                rows.append(Row(f"rtol {rtol:g}", (*cells, step, rank), kind="sub"))
    header = ["r", *(ratio_label(r) for r in ratios), "step / norm: median (max)", "rank kept"]
    return (
        f"Test accuracy (%) of the paper's influence and SSSE updates (last layer, "
        f"pseudo-inverse) for each cut-off rtol of the pseudo-inverse (eigenvalues below "
        f"rtol times the largest dropped), mean ± std over {seeds} seed"
        f"{'s' if seeds > 1 else ''}; the step's norm relative to the last layer's kernel, "
        "median (and largest) over every ratio and seed; the range of the rank kept. The "
        "paper's tables use rtol 1e-10.\n\n" + grid_markdown(rows, header)
    )


def render_rtol(rtol_csv: str | os.PathLike, out_md: str | os.PathLike) -> Path:
    """Write `rtol_table` as Markdown."""
    write_text(out_md, rtol_table(rtol_csv))
    return Path(out_md)
