"""Tables and figures beyond the paper, from the same result CSVs (and the leave-k-out check).

The paper's Tables 5.1-5.3 show only its own detectors, methods and forget sets; this module
renders the rest: more detectors (AUM, confident learning), full-network curvature next to
the last layer, the leave-k-out validation of the influence approximation, budgets estimated
without knowing the noise ratio, and more unlearning methods compared with retraining.

Every file in `EXTENSION_FILES` is always written, so the workflow can declare them all: where
a configuration did not produce the data, a table holds one "not run in this configuration"
row (and its caption says so) and a figure says so in place of its plot. Rows are built by
pure functions returning `Row`s, laid out by the same template as Tables 5.1-5.3, with cells
from `format_cell` (mean and sample std over seeds).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mislabel.artifacts import (
    EXTENSION_FIGURES,
    EXTENSION_FILES,
    EXTENSION_TABLES,
)
from mislabel.files import atomic
from mislabel.report.figures import (
    accuracy_figure,
    auc_figure,
    band_phrase,
    mpl_label,
    new_figure,
    placeholder_figure,
    save_figure,
)
from mislabel.report.tables import (
    DETECTION_COLUMNS,
    DETECTOR_LABELS,
    FORGET_LABELS,
    FULL_SUFFIX,
    LATEX,
    METHOD_LABELS,
    TARGET_LABELS,
    UNLEARNING_COLUMNS,
    Row,
    budget_phrase,
    cells_by_ratio,
    dataset_label,
    detection_rows,
    format_cell,
    full_method_rows,
    label_of,
    load_results,
    method_label,
    n_seeds,
    ordered,
    pretrained_rows,
    ratio_label,
    render_grid_tex,
    render_table_tex,
    seed_phrase,
    sorted_ratios,
)

NOT_RUN = "not run in this configuration"
LOO_COLUMNS: tuple[str, ...] = (
    "dataset",
    "scope",
    "seed",
    "n_removed",
    "n_runs",
    "pearson",
    "spearman",
)
LOO_KEYS: tuple[str, ...] = ("dataset", "ratio", "scope", "seed", "n_removed")
SCOPE_LABELS: dict[str, tuple[str, str]] = {
    "last_layer": ("Last layer", "Last layer"),
    "full": ("Full network (conjugate gradients)", "Full network (conjugate gradients)"),
    "full_lowrank": (
        "Full network (top-$k$ eigenpairs)",
        "Full network (top-k eigenpairs)",
    ),
}
# Detector order of the extension tables and figures: baselines, then influence variants.
EXT_DETECTORS: tuple[str, ...] = (
    "loss",
    "aum",
    "cleanlab",
    "if_self",
    "if_train",
    "if_train_minus_z",
    "if_self_full",
    "if_train_full",
    "if_train_minus_z_full",
)
EXT_DETECTION_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("roc_auc", "auc", "ROC AUC", "ROC AUC"),
    (
        "precision",
        "percent",
        r"Precision (\%) of the top-$m$ flags",
        "Precision (%) of the top-m flags",
    ),
)
# Influence-based names that have a full-network twin (name + FULL_SUFFIX).
CURVATURE_DETECTORS: tuple[str, ...] = ("if_self", "if_train", "if_train_minus_z")
CURVATURE_METHODS: tuple[str, ...] = ("influence", "ssse")
CURVATURE_SCOPES: tuple[str, str] = ("last layer", "full network")
BUDGET_TARGETS: dict[str, tuple[str, str]] = {
    "detected": (r"given $m$", "given m"),
    "detected_estimated": (r"estimated $\hat{m}$", "estimated m"),
}
ACCURACY_TARGETS: tuple[str, ...] = ("mislabeled", "detected")
# Columns of the unlearner comparison: (column, cell kind, LaTeX heading); CG ones optional.
UNLEARNER_METRICS: tuple[tuple[str, str, str], ...] = (
    ("accuracy_gap_to_retrain_clean", "pp", r"$\Delta$ acc.\ (pp)"),
    ("agreement_with_retrain_clean", "percent", r"Agree.\ (\%)"),
    ("param_l2_to_retrain_clean", "real", r"$\lVert \theta - \theta_{\mathrm{clean}} \rVert_2$"),
    ("time_vs_retrain", "real", "Time / retrain"),
)
CG_METRICS: tuple[tuple[str, str, str], ...] = (
    ("cg_iterations", "real", "CG iter."),
    ("cg_converged", "percent", r"CG conv.\ (\%)"),
)
_BOOLEAN_TEXT = {"true": 1.0, "false": 0.0}


# --- data ----------------------------------------------------------------------------------


def numeric(df: pd.DataFrame, column: str) -> pd.Series:
    """`df[column]` as floats (True/False as 1/0); all NaN if the column is absent."""
    if column not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype=float)
    values = df[column]
    if values.dtype == object:
        values = values.map(lambda v: _BOOLEAN_TEXT.get(str(v).strip().lower(), v))
    try:
        return pd.to_numeric(values).astype(float)
    except (ValueError, TypeError) as err:
        raise ValueError(f"column {column!r} is not numeric: {err}") from err


def with_numeric(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of `df` with each of `columns` as floats (NaN where the CSV lacks it)."""
    out = df.copy()
    for column in columns:
        out[column] = numeric(df, column)
    return out


def has_values(df: pd.DataFrame, column: str) -> bool:
    """Whether `column` holds at least one finite value."""
    return bool(np.isfinite(numeric(df, column)).any())


def load_loo(path: str | os.PathLike | None, *, dataset: str) -> pd.DataFrame:
    """The leave-k-out validation rows of `dataset` (empty if `path` is None, an empty file,
    or has no rows for `dataset`, e.g. only the header of a skipped validation)."""
    if path is None or Path(path).stat().st_size == 0:
        return pd.DataFrame(columns=list(LOO_COLUMNS))
    loo = load_results(path, LOO_COLUMNS, dataset=dataset, keys=LOO_KEYS, allow_empty=True)
    return with_numeric(loo, ["slope"]) if "slope" in loo.columns else loo


def with_timing(unl: pd.DataFrame, timing_csv: str | os.PathLike | None) -> pd.DataFrame:
    """`unl` with the timing summary's `time_vs_retrain` joined on run, method and target
    (unchanged without a timing summary, or if `unl` already has the column)."""
    if timing_csv is None or "time_vs_retrain" in unl.columns:
        return unl
    timing = pd.read_csv(timing_csv, keep_default_na=False, na_values=[""])
    timing = timing[timing["stage"] == "unlearn"].rename(columns={"name": "method"})
    keys = ["dataset", "ratio", "seed", "method", "target"]
    return unl.merge(timing[[*keys, "time_vs_retrain"]], on=keys, how="left")


def estimators(det: pd.DataFrame) -> list[str]:
    """Detectors that estimated the fraction of mislabeled samples, in extension order."""
    est = det[np.isfinite(numeric(det, "estimated_ratio"))]
    return ordered(est["detector"], EXT_DETECTORS)


def all_ratios(*frames: pd.DataFrame) -> list[float]:
    """Noise ratios present in any of `frames`, ascending."""
    return sorted({r for df in frames for r in sorted_ratios(df)})


def seeds_of(*frames: pd.DataFrame) -> int:
    """Number of distinct seeds over `frames`."""
    return len({s for df in frames for s in df["seed"].unique().tolist()})


# --- rows ----------------------------------------------------------------------------------


def note_row(text: str = NOT_RUN) -> Row:
    """A spanning italic row that says `text` (capitalised, full stop)."""
    return Row(rf"\textit{{{text[0].upper()}{text[1:]}.}}", kind="head")


def with_note(caption: str, missing: bool) -> str:
    """`caption`, plus a sentence saying the data was not produced when `missing`."""
    return f"{caption} {NOT_RUN[0].upper()}{NOT_RUN[1:]}." if missing else caption


def finish_table(
    rows: list[Row] | None,
    header: Sequence[str],
    *,
    caption: str,
    label: str,
    spans: Sequence[tuple[str, int]] = (),
) -> str:
    """Render a table; `rows` None means not run: one note row, and the caption says so."""
    missing = rows is None
    return render_grid_tex(
        [note_row()] if rows is None else rows,
        header,
        caption=with_note(caption, missing),
        label=label,
        spans=spans,
    )


def ratio_header(ratios: Sequence[float]) -> list[str]:
    """Column headings of a table with one column per noise ratio."""
    return ["$r$", *(ratio_label(r) for r in ratios)]


def plural(count: int, noun: str) -> str:
    """`1 seed`, `2 seeds`."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def heading(text: str) -> str:
    """`text` with its first letter upper-cased (the rest kept, unlike str.capitalize)."""
    return text[:1].upper() + text[1:]


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
    labels = DETECTOR_LABELS if by == "detector" else METHOD_LABELS
    present = set(df[by])
    out: list[Row] = []
    for base in bases:
        if base + FULL_SUFFIX not in present:
            continue
        out.append(Row(label_of(base, labels, LATEX), kind="head"))
        for name, scope in zip((base, base + FULL_SUFFIX), CURVATURE_SCOPES, strict=True):
            cells = cells_by_ratio(df[df[by] == name], value, kind, ratios, LATEX)
            out.append(Row(scope, cells, "sub"))
    return out or [note_row()]


def budget_rows(det: pd.DataFrame, names: Sequence[str]) -> list[Row]:
    """Per nominal ratio: actual flipped fraction, then the estimated ratio of each of `names`."""
    runs = det.drop_duplicates(subset=["ratio", "seed"])
    out = []
    for ratio in sorted_ratios(det):
        at = np.isclose(det["ratio"], ratio)
        cells = [
            format_cell(runs.loc[np.isclose(runs["ratio"], ratio), "flipped_ratio"], "fraction")
        ]
        for name in names:
            values = det.loc[at & (det["detector"] == name), "estimated_ratio"]
            cells.append(format_cell(values, "fraction"))
        out.append(Row(ratio_label(ratio), tuple(cells)))
    return out


def rows_by_target(
    unl: pd.DataFrame, targets: Sequence[str], cells: Callable[[pd.DataFrame], tuple[str, ...]]
) -> list[Row]:
    """Per forget set a group heading, then one sub-row per method with `cells(its rows)`."""
    out: list[Row] = []
    for target in targets:
        rows = unl[unl["target"] == target]
        out.append(Row(heading(label_of(target, FORGET_LABELS, LATEX)), kind="group"))
        for method in ordered(rows["method"], list(METHOD_LABELS)):
            out.append(
                Row(method_label(method, target), cells(rows[rows["method"] == method]), "sub")
            )
    return out


def pooled_rows(
    unl: pd.DataFrame, metrics: Sequence[tuple[str, str, str]], targets: Sequence[str]
) -> list[Row]:
    """Pre-trained, then per forget set one sub-row per method; each cell pools all ratios
    and seeds of a metric."""

    def cells(rows: pd.DataFrame) -> tuple[str, ...]:
        return tuple(format_cell(rows[col], kind) for col, kind, _ in metrics)

    pre = unl[(unl["method"] == "pretrained") & (unl["target"] == "none")]
    out = [Row(METHOD_LABELS["pretrained"][0], cells(pre))] if not pre.empty else []
    return out + rows_by_target(unl, targets, cells)


def accuracy_rows(unl: pd.DataFrame, ratios: Sequence[float], targets: Sequence[str]) -> list[Row]:
    """Pre-trained, then per forget set one sub-row of test accuracy per method and ratio."""

    def cells(rows: pd.DataFrame) -> tuple[str, ...]:
        return cells_by_ratio(rows, "test_accuracy", "percent", ratios, LATEX)

    return pretrained_rows(unl, ratios) + rows_by_target(unl, targets, cells)


def count_cell(values: Iterable[float]) -> str:
    """An integer if all finite `values` agree, else their range; `--` if none."""
    arr = np.asarray(list(values), dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return "--"
    lo, hi = arr.min(), arr.max()
    return f"{lo:g}" if lo == hi else f"{lo:g}--{hi:g}"


def loo_rows(loo: pd.DataFrame, with_slope: bool) -> list[Row]:
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
                format_cell(sub["pearson"], "corr"),
                format_cell(sub["spearman"], "corr"),
            ]
            if with_slope:
                cells.append(format_cell(sub["slope"], "real"))
            out.append(Row(label_of(scope, SCOPE_LABELS, LATEX), tuple(cells)))
    return out


# --- tables --------------------------------------------------------------------------------


def detectors_table(det: pd.DataFrame, dataset: str) -> str:
    """ROC AUC and precision (top-m flags) of every detector, per noise ratio."""
    ratios = sorted_ratios(det)
    rows = detection_rows(det, ratios, metrics=EXT_DETECTION_METRICS, known=EXT_DETECTORS)
    caption = (
        f"Every detector on {dataset_label(dataset)}, those of the paper and those beyond it "
        "(the area under the margin, AUM; confident learning; influence scores with the "
        "Hessian of the full network instead of the last layer): ROC AUC, and precision "
        rf"(\%) of the top-$m$ flags ({budget_phrase(det)}), per noise "
        f"ratio $r$ ({seed_phrase(n_seeds(det))})."
    )
    return render_table_tex(rows, ratios, caption=caption, label="tab:ext-detectors")


def curvature_table(det: pd.DataFrame, unl: pd.DataFrame, dataset: str) -> str:
    """Last layer vs full network: detection AUC and Experiment 2/3 accuracy, per ratio."""
    ratios = all_ratios(det, unl)
    groups = (
        ("Detection: ROC AUC", det, "detector", CURVATURE_DETECTORS, "roc_auc", "auc"),
        (
            r"Experiment 2: test accuracy (\%), forget $D_{\mathrm{mislabeled}}$",
            unl[unl["target"] == "mislabeled"],
            "method",
            CURVATURE_METHODS,
            "test_accuracy",
            "percent",
        ),
        (
            r"Experiment 3: test accuracy (\%), forget $D_{\mathrm{detected}}$",
            unl[unl["target"] == "detected"],
            "method",
            CURVATURE_METHODS,
            "test_accuracy",
            "percent",
        ),
    )
    full = [df[df[by].isin([b + FULL_SUFFIX for b in bases])] for _, df, by, bases, _, _ in groups]
    rows: list[Row] | None = None
    if not all(df.empty for df in full):
        rows = []
        for title, df, by, bases, value, kind in groups:
            rows.append(Row(title, kind="group"))
            rows += curvature_rows(df, by, bases, value, kind, ratios)
    used = [
        df[df[by].isin([*bases, *(b + FULL_SUFFIX for b in bases)])]
        for _, df, by, bases, _, _ in groups
    ]
    caption = (
        f"Curvature of the last layer versus the full network on {dataset_label(dataset)}, "
        "side by side: detection ROC AUC of the three influence scores, and test accuracy "
        r"(\%) after forgetting $D_{\mathrm{mislabeled}}$ (Experiment 2) or "
        r"$D_{\mathrm{detected}}$ (Experiment 3) with influence-function and SSSE "
        "unlearning, each with the Hessian of the last layer or of all parameters, per noise "
        f"ratio $r$ ({seed_phrase(seeds_of(*used))})."
    )
    return finish_table(rows, ratio_header(ratios), caption=caption, label="tab:ext-curvature")


def loo_ratio_phrase(loo: pd.DataFrame) -> str:
    """Caption phrase for the noise ratio(s) the leave-k-out runs used."""
    ratios = ", ".join(ratio_label(r) for r in sorted_ratios(loo))
    if loo["ratio"].nunique() == 1:
        return f", at noise ratio $r = {ratios}$"
    return rf", pooled over noise ratios $r \in \{{{ratios}\}}$"


def loo_table(loo: pd.DataFrame, dataset: str) -> str:
    """Predicted vs actual leave-k-out loss change: correlations per curvature scope."""
    with_slope = "slope" in loo.columns and has_values(loo, "slope")
    header = ["Scope", "$k$", "Seeds", "Retrainings", "Pearson", "Spearman"]
    header += ["Slope"] if with_slope else []
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


def estimated_table(unl: pd.DataFrame, dataset: str, budget: str) -> str:
    """Experiment 3 with the given vs the estimated budget: test accuracy per method.

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
        r"$\hat{m}$ the detector estimated without it, per method and noise ratio $r$ "
        f"({seed_phrase(n_seeds(used))})."
    )
    return finish_table(rows, ratio_header(ratios), caption=caption, label="tab:ext-estimated")


def unlearners_table(unl: pd.DataFrame, dataset: str) -> str:
    """Every method vs retraining on D_clean: gap, agreement, distance, time (pooled)."""
    cg = [metric for metric in CG_METRICS if has_values(unl, metric[0])]
    metrics = [*UNLEARNER_METRICS, *cg]
    unl = with_numeric(unl, [col for col, _, _ in metrics])
    missing = not any(has_values(unl, col) for col, _, _ in UNLEARNER_METRICS)
    absent = [head for col, _, head in UNLEARNER_METRICS if not has_values(unl, col)]
    targets = [t for t in ordered(unl["target"], list(TARGET_LABELS)) if t != "none"]
    rows = None if missing else pooled_rows(unl, metrics, targets)
    header = ["Method", *(head for _, _, head in metrics)]
    n_ratios = unl["ratio"].nunique()
    caption = (
        f"Unlearning methods compared with retraining on the clean data, on "
        f"{dataset_label(dataset)}, per forget set: test-accuracy gap to the model retrained on "
        r"$D_{\mathrm{clean}}$ (percentage points), agreement of its test predictions with "
        r"that model (\%), $L_2$ distance of all parameters to it, and wall time relative to "
        "retraining on the same forget set"
        + (
            ", and for conjugate-gradient solves the iterations and the share that converged"
            if cg
            else ""
        )
        + f". Each cell is the mean{LATEX.pm}std over all {plural(n_ratios, 'noise ratio')} "
        f"and {plural(n_seeds(unl), 'seed')} together."
        + (f" Columns {', '.join(absent)}: {NOT_RUN}." if absent and not missing else "")
    )
    return finish_table(rows, header, caption=caption, label="tab:ext-unlearners")


def unlearners_accuracy_table(unl: pd.DataFrame, dataset: str) -> str:
    """Test accuracy of every method per noise ratio, forgetting D_mislabeled and D_detected."""
    ratios = sorted_ratios(unl)
    targets = [t for t in ACCURACY_TARGETS if (unl["target"] == t).any()]
    rows = accuracy_rows(unl, ratios, targets) if targets else None
    used = unl[unl["target"].isin([*ACCURACY_TARGETS, "none"])]
    caption = (
        rf"Test accuracy (\%) on {dataset_label(dataset)} of every unlearning method, those of "
        r"the paper and those beyond it, after forgetting $D_{\mathrm{mislabeled}}$ "
        r"(Experiment 2) or $D_{\mathrm{detected}}$ (Experiment 3), per noise ratio $r$ "
        f"({seed_phrase(n_seeds(used))})."
    )
    return finish_table(
        rows, ratio_header(ratios), caption=caption, label="tab:ext-unlearners-accuracy"
    )


# --- figures -------------------------------------------------------------------------------


def twin_styles(names: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Colors and line styles: a full-network variant gets its last-layer twin's color,
    dashed."""
    bases = list(dict.fromkeys(name.removesuffix(FULL_SUFFIX) for name in names))
    colors = {n: f"C{bases.index(n.removesuffix(FULL_SUFFIX)) % 10}" for n in names}
    styles = {n: "--" if n.endswith(FULL_SUFFIX) else "-" for n in names}
    return colors, styles


def estimated_ratio_figure(det: pd.DataFrame, names: Sequence[str]) -> Figure:
    """Estimated vs actual flipped fraction per nominal ratio (mean +- std), y = x dashed."""
    x_col = "flipped_ratio" if has_values(det, "flipped_ratio") else "ratio"
    fig = new_figure(height=4.0, width=4.5)
    ax = fig.add_subplot()
    top = 0.0
    for i, name in enumerate(names):
        rows = det[det["detector"] == name]
        points = pd.DataFrame(
            {"ratio": rows["ratio"], "x": numeric(rows, x_col), "y": rows["estimated_ratio"]}
        )
        stats = points.groupby("ratio")[["x", "y"]].agg(["mean", "std"]).fillna(0.0)
        x, y = stats[("x", "mean")], stats[("y", "mean")]
        xerr, yerr = stats[("x", "std")], stats[("y", "std")]
        ax.errorbar(
            x,
            y,
            xerr=xerr,
            yerr=yerr,
            marker="o",
            markersize=3,
            capsize=2,
            color=f"C{i % 10}",
            label=mpl_label(name, DETECTOR_LABELS),
        )
        top = max(top, float(np.nanmax(x + xerr)), float(np.nanmax(y + yerr)))
    top = 1.05 * top if top > 0 else 1.0
    ax.plot([0, top], [0, top], color="gray", linestyle="--", linewidth=0.8, label="y = x")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(
        "actual fraction of flipped labels" if x_col == "flipped_ratio" else "noise ratio r"
    )
    ax.set_ylabel("estimated fraction of mislabeled samples")
    ax.legend(loc="upper left", fontsize="small")
    return fig


def auc_panel(det: pd.DataFrame, name: str) -> tuple[Figure, str, float]:
    """fig_ext_auc_vs_ratio: figure, caption and width (fraction of the line)."""
    colors, styles = twin_styles(ordered(det["detector"], EXT_DETECTORS))
    fig = auc_figure(
        det, colors=colors, linestyles=styles, legend_outside=True, order=EXT_DETECTORS
    )
    caption = (
        f"Detection ROC AUC on {name} versus noise ratio $r$ for every detector; a dashed "
        "line is the full-network variant of the solid line of the same color, the gray "
        f"dashed line marks chance ({band_phrase(n_seeds(det))})."
    )
    return fig, caption, 0.9


def estimated_ratio_panel(det: pd.DataFrame, name: str) -> tuple[Figure, str, float]:
    """fig_ext_estimated_ratio: figure, caption and width, or a placeholder if not run."""
    names = estimators(det)
    if not names:
        caption = f"Estimated versus actual fraction of mislabeled samples on {name}."
        return placeholder_figure(f"Budget estimation {NOT_RUN}."), with_note(caption, True), 0.6
    against = (
        "the actual fraction of flipped labels"
        if has_values(det, "flipped_ratio")
        else "the nominal noise ratio (the actual fraction was not recorded)"
    )
    caption = (
        "Fraction of mislabeled samples estimated by each detector that can estimate it, "
        f"versus {against}, on {name}; one point per nominal noise ratio, bars: std over "
        "seeds, the dashed line is $y = x$ "
        f"({seed_phrase(n_seeds(det[det['detector'].isin(names)]))})."
    )
    return estimated_ratio_figure(det, names), caption, 0.6


def unlearners_panel(unl: pd.DataFrame, name: str) -> tuple[Figure, str, float]:
    """fig_ext_unlearners_vs_ratio: figure, caption and width."""
    colors, styles = twin_styles(ordered(unl["method"], list(METHOD_LABELS)))
    fig = accuracy_figure(unl, colors=colors, linestyles=styles, legend_outside=True, max_cols=2)
    caption = (
        rf"Test accuracy (\%) on {name} versus noise ratio $r$ for every unlearning method, one "
        "panel per forget set, the pre-trained model in each; a dashed line is the "
        "full-network variant of the solid line of the same color "
        f"({band_phrase(n_seeds(unl))})."
    )
    return fig, caption, 0.95


def render_figures(
    det: pd.DataFrame, unl: pd.DataFrame, out_dir: Path, *, dataset: str
) -> list[Path]:
    """The extension figures (pdf, png, tex each), in `EXTENSION_FIGURES` order."""
    name = dataset_label(dataset)
    panels = (auc_panel(det, name), estimated_ratio_panel(det, name), unlearners_panel(unl, name))
    written: list[Path] = []
    for stem, (fig, caption, width) in zip(EXTENSION_FIGURES, panels, strict=True):
        written += save_figure(fig, out_dir, stem, caption=caption, width=width)
    return written


# --- entry point ---------------------------------------------------------------------------


def render_extensions(
    detection_csv: str | os.PathLike,
    unlearning_csv: str | os.PathLike,
    loo_csv: str | os.PathLike | None,
    out_dir: str | os.PathLike,
    *,
    dataset: str,
    timing_csv: str | os.PathLike | None = None,
) -> list[Path]:
    """Write every table and figure beyond the paper (`EXTENSION_FILES`) into `out_dir`.

    Args:
      detection_csv: one row per (dataset, ratio, seed, detector); optional columns
        `flipped_ratio` and `estimated_ratio` feed the budget table and figure.
      unlearning_csv: one row per (dataset, ratio, seed, method, target); optional columns
        `accuracy_gap_to_retrain_clean`, `agreement_with_retrain_clean`,
        `param_l2_to_retrain_clean`, `time_vs_retrain`, `cg_iterations`, `cg_converged`.
      loo_csv: leave-k-out validation (dataset, scope, seed, n_removed, n_runs, pearson,
        spearman, optional slope), or None if it was not run.
      dataset: the dataset whose rows are shown.
      timing_csv: the timing summary (`mislabel.stages.aggregate_timing`); its
        `time_vs_retrain` joins the unlearning rows (dataset, ratio, seed, method, target).

    Returns:
      The written paths, in `EXTENSION_FILES` order. Outputs whose data this configuration
      did not produce are still written and say "not run in this configuration".
    """
    det = load_results(detection_csv, DETECTION_COLUMNS, dataset=dataset)
    det = with_numeric(det, ["flipped_ratio", "estimated_ratio"])
    unl = with_timing(load_results(unlearning_csv, UNLEARNING_COLUMNS, dataset=dataset), timing_csv)
    loo = load_loo(loo_csv, dataset=dataset)
    texts = (
        detectors_table(det, dataset),
        curvature_table(det, unl, dataset),
        loo_table(loo, dataset),
        budget_table(det, dataset),
        estimated_table(unl, dataset, budget_phrase(det)),
        unlearners_table(unl, dataset),
        unlearners_accuracy_table(unl, dataset),
    )
    out = Path(out_dir)
    written = []
    for stem, text in zip(EXTENSION_TABLES, texts, strict=True):
        atomic.write_text(out / f"{stem}.tex", text)
        written.append(out / f"{stem}.tex")
    written += render_figures(det, unl, out, dataset=dataset)
    if [p.name for p in written] != list(EXTENSION_FILES):
        raise RuntimeError(f"wrote {[p.name for p in written]}, expected {EXTENSION_FILES}")
    return written
