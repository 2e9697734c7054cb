"""Unlearning tables: Tables 5.2 and 5.3 (the paper's unlearners), Experiment 3 with an
estimated budget, and every unlearner compared with retraining on the clean data; Table
5.2 (or its analogue for another forget set) also as Markdown (`table_markdown`).

Rows are built by pure functions that return `Row`s; `mislabel.report.latex` lays them out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from mislabel.report.cells import (
    LATEX,
    MARKDOWN,
    Row,
    Style,
    cells_by_ratio,
    column_decimals,
    damping_cell,
    format_cell,
    grid_markdown,
)
from mislabel.report.frames import (
    PAPER_TARGETS,
    PAPER_UNLEARNERS,
    UNLEARNING_COLUMNS,
    has_values,
    is_pretrained,
    load_results,
    n_seeds,
    numeric,
    paper_unlearning,
    sorted_ratios,
    with_numeric,
)
from mislabel.report.labels import (
    BUDGET_TARGETS,
    FORGET_LABELS,
    NOT_RUN,
    TARGET_LABELS,
    UNLEARNER_LABELS,
    check_metric,
    dataset_label,
    heading,
    label_of,
    ordered,
    per_ratio,
    ratio_heading,
    ratio_label,
    seed_phrase,
    unlearner_label,
)
from mislabel.report.latex import finish_table, ratio_header, render_table_tex

# Columns of the unlearner comparison: (column, cell kind, LaTeX heading); CG ones optional.
# (column, cell kind, (LaTeX heading, plain heading)) of the unlearners-vs-retraining table.
UNLEARNER_METRICS: tuple[tuple[str, str, tuple[str, str]], ...] = (
    ("accuracy_gap_to_retrain_clean", "pp", (r"$\Delta$ acc.\ (pp)", "accuracy gap (pp)")),
    ("agreement_with_retrain_clean", "percent", (r"Agree.\ (\%)", "agreement (%)")),
    (
        "param_l2_to_retrain_clean",
        "real",
        (r"$\lVert \theta - \theta_{\mathrm{clean}} \rVert_2$", "parameter L2"),
    ),
    ("time_vs_retrain", "real", ("Time / retrain", "time / retrain")),
)
CG_METRICS: tuple[tuple[str, str, tuple[str, str]], ...] = (
    ("cg_iterations", "count", ("CG iter.", "CG iterations")),
    ("cg_converged", "percent", (r"CG conv.\ (\%)", "CG converged (%)")),
)
# How far each unlearner moved the parameters, and the damping of the closed-form steps;
# shown where the summary recorded them. A "damping" cell is `damping_cell`.
PARAM_CHANGE_METRIC = (
    "param_l2_to_pretrained",
    "real",
    (r"$\lVert \theta - \theta_{\mathrm{pre}} \rVert_2$", "‖Δθ‖ (to pre-trained)"),
)
DAMPING_METRIC = ("damping_used", "damping", ("Damping used", "damping used"))


def _unlearners(df: pd.DataFrame) -> list[str]:
    return [m for m in ordered(df["unlearner"], list(UNLEARNER_LABELS)) if m != "pretrained"]


def pretrained_rows(
    df: pd.DataFrame, ratios: Sequence[float], style: Style = LATEX, value: str = "test_accuracy"
) -> list[Row]:
    """The Pre-trained row (unlearner pretrained, target none), or nothing if absent."""
    pre = df[is_pretrained(df)]
    if pre.empty:
        return []
    label = UNLEARNER_LABELS["pretrained"][style.which]
    return [Row(label, cells_by_ratio(pre, value, "percent", ratios, style))]


def unlearning_rows(
    df: pd.DataFrame,
    ratios: Sequence[float],
    *,
    target: str,
    style: Style = LATEX,
    value: str = "test_accuracy",
) -> list[Row]:
    """Table 5.2 (target="mislabeled"): Pre-trained, then one row per unlearner for `target`;
    cells show the column `value` (test_accuracy or balanced_accuracy)."""
    out = pretrained_rows(df, ratios, style, value)
    for unlearner in _unlearners(df):
        sub = df[(df["unlearner"] == unlearner) & (df["target"] == target)]
        if sub.empty:
            continue
        cells = cells_by_ratio(sub, value, "percent", ratios, style)
        out.append(Row(unlearner_label(unlearner, target, style), cells))
    return out


def full_method_rows(
    df: pd.DataFrame,
    ratios: Sequence[float],
    style: Style = LATEX,
    *,
    targets: Sequence[str] | None = None,
    target_labels: dict[str, tuple[str, str]] = TARGET_LABELS,
    value: str = "test_accuracy",
) -> list[Row]:
    """Table 5.3: Pre-trained, then per unlearner one sub-row per forget set (target).

    Args:
      targets: the forget sets to show, in this order; None: every one present (known first).
      target_labels: sub-row labels of known targets; others read "on <name>".
      value: the column shown (test_accuracy or balanced_accuracy).
    """
    out = pretrained_rows(df, ratios, style, value)
    for unlearner in _unlearners(df):
        rows = df[(df["unlearner"] == unlearner) & (df["target"] != "none")]
        present = set(rows["target"])
        shown = (
            ordered(present, list(TARGET_LABELS))
            if targets is None
            else [t for t in targets if t in present]
        )
        if not shown:
            continue
        out.append(Row(label_of(unlearner, UNLEARNER_LABELS, style), kind="head"))
        for target in shown:
            sub = rows[rows["target"] == target]
            label = (
                target_labels[target][style.which]
                if target in target_labels
                else "on " + style.escape(target)
            )
            cells = cells_by_ratio(sub, value, "percent", ratios, style)
            out.append(Row(label, cells, "sub"))
    return out


def rows_by_target(
    unl: pd.DataFrame,
    targets: Sequence[str],
    cells: Callable[[pd.DataFrame], tuple[str, ...]],
    style: Style = LATEX,
) -> list[Row]:
    """Per forget set a group heading, then one sub-row per unlearner with `cells(its rows)`."""
    out: list[Row] = []
    for target in targets:
        rows = unl[unl["target"] == target]
        out.append(Row(heading(label_of(target, FORGET_LABELS, style)), kind="group"))
        for unlearner in ordered(rows["unlearner"], list(UNLEARNER_LABELS)):
            label = unlearner_label(unlearner, target, style)
            out.append(Row(label, cells(rows[rows["unlearner"] == unlearner]), "sub"))
    return out


def retrained_rows(
    unl: pd.DataFrame,
    metrics: Sequence[tuple[str, str, tuple[str, str]]],
    targets: Sequence[str],
    style: Style = LATEX,
) -> list[Row]:
    """Per noise ratio (under a heading when there are several): Pre-trained, then per forget
    set one sub-row per unlearner; each cell is the mean ± std over the seeds at that ratio,
    never across ratios."""

    decimals = {col: column_decimals(unl[col]) for col, kind, _ in metrics if kind == "real"}

    def cell(rows: pd.DataFrame, col: str, kind: str) -> str:
        if kind == "damping":
            return damping_cell(rows[col], numeric(rows, "damping"))
        return format_cell(rows[col], kind, pm=style.pm, decimals=decimals.get(col))

    def cells(rows: pd.DataFrame) -> tuple[str, ...]:
        return tuple(cell(rows, col, kind) for col, kind, _ in metrics)

    ratios = sorted_ratios(unl)
    label = UNLEARNER_LABELS["pretrained"][style.which]
    out: list[Row] = []
    for ratio in ratios:
        at = unl[np.isclose(unl["ratio"], ratio)]
        if len(ratios) > 1:
            out.append(Row(ratio_heading(ratio, style), kind="group"))
        pre = at[is_pretrained(at)]
        out += [Row(label, cells(pre))] if not pre.empty else []
        present = [t for t in targets if (at["target"] == t).any()]
        out += rows_by_target(at, present, cells, style)
    return out


def unlearner_metrics(unl: pd.DataFrame) -> list[tuple[str, str, tuple[str, str]]]:
    """The columns of the unlearners-vs-retraining table: `UNLEARNER_METRICS`, then the
    parameter change, the conjugate-gradient ones and the damping used where `unl` has them."""
    optional = (PARAM_CHANGE_METRIC, *CG_METRICS, DAMPING_METRIC)
    return [*UNLEARNER_METRICS, *(m for m in optional if has_values(unl, m[0]))]


def accuracy_rows(
    unl: pd.DataFrame, ratios: Sequence[float], targets: Sequence[str], style: Style = LATEX
) -> list[Row]:
    """Pre-trained, then per forget set one sub-row of test accuracy per unlearner and ratio."""

    def cells(rows: pd.DataFrame) -> tuple[str, ...]:
        return cells_by_ratio(rows, "test_accuracy", "percent", ratios, style)

    return pretrained_rows(unl, ratios, style) + rows_by_target(unl, targets, cells, style)


def table_5_2_tex(unl: pd.DataFrame, dataset: str, metric: str = "accuracy") -> str:
    """Table 5.2: test accuracy after forgetting the known mislabeled set (paper unlearners)."""
    value, what, _ = check_metric(metric)
    unl = paper_unlearning(unl)
    ratios = sorted_ratios(unl)
    rows = unlearning_rows(unl, ratios, target="mislabeled", value=value)
    used = unl[(unl["target"] == "mislabeled") | (unl["unlearner"] == "pretrained")]
    caption = (
        f"{what} on {dataset_label(dataset)} after forgetting the known mislabeled "
        r"set $D_{\mathrm{mislabeled}}$, " + per_ratio(n_seeds(used), "method")
    )
    return render_table_tex(rows, ratios, caption=caption, label="tab:5-2")


def table_5_3_tex(
    unl: pd.DataFrame, dataset: str, metric: str = "accuracy", budget: str = ""
) -> str:
    """Table 5.3: test accuracy of the full method (forget detected vs. mislabeled).

    `budget`: caption phrase for the number of detected samples (`budget_phrase`)."""
    value, what, _ = check_metric(metric)
    unl = paper_unlearning(unl)
    ratios = sorted_ratios(unl)
    caption = (
        f"{what} on {dataset_label(dataset)} of the full method: each unlearning "
        r"method forgets either the known $D_{\mathrm{mislabeled}}$ or the detected "
        r"$D_{\mathrm{detected}}$"
        + (f" ({budget})" if budget else "")
        + ", "
        + per_ratio(n_seeds(unl))
    )
    rows = full_method_rows(unl, ratios, value=value)
    return render_table_tex(rows, ratios, caption=caption, label="tab:5-3")


def estimated_table(unl: pd.DataFrame, dataset: str, budget: str) -> str:
    """Experiment 3 with the given vs the estimated budget: test accuracy per unlearner.

    `budget`: caption phrase of the given budget (`budget_phrase`)."""
    ratios = sorted_ratios(unl)
    targets = tuple(BUDGET_TARGETS)
    rows = (
        full_method_rows(unl, ratios, targets=targets, target_labels=BUDGET_TARGETS)
        if (unl["target"] == "detected_estimated").any()
        else None
    )
    used = unl[unl["target"].isin([*targets, "none"])]
    caption = (
        rf"Experiment 3 with an estimated budget on {dataset_label(dataset)}: test accuracy "
        r"(\%) after forgetting the top-$m$ flags of the pipeline's detector, with the given "
        rf"budget ({budget}, which needs to know the noise) or with the budget "
        r"$\hat{m}$ the detector estimated without it, " + per_ratio(n_seeds(used), "method")
    )
    return finish_table(rows, ratio_header(ratios), caption=caption, label="tab:ext-estimated")


def unlearners_table(unl: pd.DataFrame, dataset: str) -> str:
    """Every unlearner vs retraining on D_clean: gap, agreement, distance, time; a block of
    rows per noise ratio, each cell a spread over the seeds at one ratio."""
    metrics = unlearner_metrics(unl)
    shown = {col for col, _, _ in metrics}
    cg = any(col in shown for col, _, _ in CG_METRICS)
    unl = with_numeric(unl, [*shown, "damping"])
    missing = not any(has_values(unl, col) for col, _, _ in UNLEARNER_METRICS)
    absent = [head[0] for col, _, head in UNLEARNER_METRICS if not has_values(unl, col)]
    targets = [t for t in ordered(unl["target"], list(TARGET_LABELS)) if t != "none"]
    rows = None if missing else retrained_rows(unl, metrics, targets)
    header = ["Method", *(head[0] for _, _, head in metrics)]
    n_ratios = unl["ratio"].nunique()
    ratio = ratio_label(sorted_ratios(unl)[0]) if n_ratios else ""
    caption = (
        f"Unlearning methods compared with retraining on the clean data, on "
        f"{dataset_label(dataset)}, per forget set: test-accuracy gap to the model retrained on "
        r"$D_{\mathrm{clean}}$ (percentage points), agreement of its test predictions with "
        r"that model (\%), $L_2$ distance of all parameters to it, and wall time relative to "
        "retraining on the same forget set"
        + (
            r"; $\lVert \theta - \theta_{\mathrm{pre}} \rVert_2$: how far the method moved "
            "the parameters from the pre-trained model's"
            if PARAM_CHANGE_METRIC[0] in shown
            else ""
        )
        + (
            "; for conjugate-gradient solves the iterations and the share that converged"
            if cg
            else ""
        )
        + (
            "; damping used: the damping of the full-network Newton step (its range over "
            "the seeds), and in how many runs it was doubled above the configured one because "
            r"$H + \lambda I$ was indefinite"
            if DAMPING_METRIC[0] in shown
            else ""
        )
        + (", per noise ratio $r$" if n_ratios > 1 else f", at noise ratio $r = {ratio}$")
        + f" ({seed_phrase(n_seeds(unl))})."
        + (f" Columns {', '.join(absent)}: {NOT_RUN}." if absent and not missing else "")
    )
    return finish_table(rows, header, caption=caption, label="tab:ext-unlearners")


def unlearners_accuracy_table(unl: pd.DataFrame, dataset: str) -> str:
    """Test accuracy of every unlearner per noise ratio, forgetting D_mislabeled and D_detected."""
    ratios = sorted_ratios(unl)
    targets = [t for t in PAPER_TARGETS if (unl["target"] == t).any()]
    rows = accuracy_rows(unl, ratios, targets) if targets else None
    used = unl[unl["target"].isin([*PAPER_TARGETS, "none"])]
    caption = (
        rf"Test accuracy (\%) on {dataset_label(dataset)} of every unlearning method, those of "
        r"the paper and those beyond it, after forgetting $D_{\mathrm{mislabeled}}$ "
        r"(Experiment 2) or $D_{\mathrm{detected}}$ (Experiment 3), " + per_ratio(n_seeds(used))
    )
    return finish_table(
        rows, ratio_header(ratios), caption=caption, label="tab:ext-unlearners-accuracy"
    )


def rows_markdown(rows: Sequence[Row], ratios: Sequence[float]) -> str:
    """Lay out table rows as Markdown: a "r" header, one right-aligned column per ratio."""
    return grid_markdown(rows, ["r", *(ratio_label(r) for r in ratios)])


def table_markdown(
    unlearning_csv: str | os.PathLike, *, target: str = "mislabeled", dataset: str = "mnist"
) -> str:
    """Test accuracy (%) per unlearner and noise ratio after forgetting `target`, as Markdown.

    With target="mislabeled" this is Table 5.2, cell for cell (plain-text ±); like the paper's
    tables it shows only the paper's unlearners.
    """
    unl = load_results(unlearning_csv, UNLEARNING_COLUMNS, dataset=dataset)
    unl = unl[unl["unlearner"].isin(PAPER_UNLEARNERS)]
    targets = sorted(set(unl["target"]) - {"none"})
    if target not in targets:
        raise ValueError(f"{unlearning_csv}: no rows with target {target!r} (present: {targets})")
    ratios = sorted_ratios(unl)
    return rows_markdown(unlearning_rows(unl, ratios, target=target, style=MARKDOWN), ratios)
