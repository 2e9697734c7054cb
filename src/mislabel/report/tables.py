"""Tables 5.1-5.3 of the paper as LaTeX (booktabs), built from the pipeline's result CSVs.

Rows are built by pure functions (`detection_rows`, `unlearning_rows`, `full_method_rows`)
that return `Row`s; templates only lay them out. The same rows feed the Markdown renderer,
so LaTeX and Markdown never disagree on a cell. Tables 5.1-5.3 show only the paper's
detectors, methods and forget sets (`paper_detection`, `paper_unlearning`); everything the
pipeline adds beyond the paper is rendered by `mislabel.report.extensions`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import jinja2
import numpy as np
import pandas as pd

from mislabel import names
from mislabel.files import atomic

# The names the paper reports, in its order; Tables 5.1-5.3 and their curves show only these.
PAPER_DETECTORS: tuple[str, ...] = names.PAPER_DETECTORS
PAPER_METHODS: tuple[str, ...] = ("pretrained", *names.PAPER_METHODS)
PAPER_TARGETS: tuple[str, ...] = ("mislabeled", "detected")
FULL_SUFFIX = names.FULL_SUFFIX  # Hessian over all parameters, not the last layer

# Known names: paper order first, then the extensions; anything else is rendered afterwards
# under its raw (escaped) name. Each label is a (LaTeX, plain text) pair; LaTeX labels are
# also valid Matplotlib mathtext.
_INFLUENCE_LABELS: dict[str, tuple[str, str]] = {
    "if_self": (r"$I_{\mathrm{up,loss}}(z, z)$", "I_up,loss(z, z)"),
    "if_train": (r"$I_{\mathrm{up,loss}}(D_{\mathrm{train}}, z)$", "I_up,loss(D_train, z)"),
    "if_train_minus_z": (
        r"$I_{\mathrm{up,loss}}(D_{\mathrm{train}} \setminus z, z)$",
        "I_up,loss(D_train \\ z, z)",
    ),
}
DETECTOR_LABELS: dict[str, tuple[str, str]] = {
    "loss": ("Loss", "Loss"),
    **_INFLUENCE_LABELS,
    **{
        name + FULL_SUFFIX: (f"{tex}, full network", f"{plain}, full network")
        for name, (tex, plain) in _INFLUENCE_LABELS.items()
    },
    "aum": ("AUM", "AUM"),
    "cleanlab": ("Confident learning (cleanlab)", "Confident learning (cleanlab)"),
}
METHOD_LABELS: dict[str, tuple[str, str]] = {
    "pretrained": ("Pre-trained", "Pre-trained"),
    "influence": ("Influence function", "Influence function"),
    "ssse": ("SSSE", "SSSE"),
    "finetune": ("Fine-tuned", "Fine-tuned"),
    "retrain": ("Retrained", "Retrained"),
    "influence_full": ("Influence (full)", "Influence (full)"),
    "ssse_full": ("SSSE (full)", "SSSE (full)"),
    "neggrad_plus": ("NegGrad+", "NegGrad+"),
    "relabel": ("Relabel + fine-tune", "Relabel + fine-tune"),
}
# Table 5.2 names the retrained row after what it was trained on.
RETRAIN_ON_CLEAN: tuple[str, str] = (r"Retrained on $D_{\mathrm{clean}}$", "Retrained on D_clean")
TARGET_LABELS: dict[str, tuple[str, str]] = {
    "mislabeled": (r"on $D_{\mathrm{mislabeled}}$", "on D_mislabeled"),
    "detected": (r"on $D_{\mathrm{detected}}$", "on D_detected"),
    "detected_estimated": (
        r"on $D_{\mathrm{detected}}$, estimated $m$",
        "on D_detected, estimated m",
    ),
}
# Headings of panels and row groups that show one forget set.
FORGET_LABELS: dict[str, tuple[str, str]] = {
    "mislabeled": (r"forget $D_{\mathrm{mislabeled}}$", "forget D_mislabeled"),
    "detected": (r"forget $D_{\mathrm{detected}}$", "forget D_detected"),
    "detected_estimated": (
        r"forget $D_{\mathrm{detected}}$, estimated $m$",
        "forget D_detected, estimated m",
    ),
}
# Table 5.1 groups: (column, cell kind, LaTeX heading, plain heading).
DETECTION_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("roc_auc", "auc", "ROC AUC", "ROC AUC"),
    ("accuracy", "percent", r"Accuracy (\%)", "Accuracy (%)"),
    ("precision", "percent", r"Precision (\%)", "Precision (%)"),
)
DATASET_LABELS: dict[str, str] = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
# How many samples a detector flags (the detection summary's `budget` column).
BUDGET_PHRASES: dict[str, tuple[str, str]] = {
    "oracle": (
        r"$m$ = the number of flipped labels, the oracle budget",
        "m = the number of flipped labels, the oracle budget",
    ),
    "nominal": (
        r"$m = \mathrm{round}(nr)$, the nominal budget",
        "m = round(nr), the nominal budget",
    ),
}
# The test metric of Tables 5.2-5.3: config value -> (summary column, LaTeX, plain phrase).
TEST_METRICS: dict[str, tuple[str, str, str]] = {
    "accuracy": ("test_accuracy", r"Test accuracy (\%)", "Test accuracy (%)"),
    "balanced_accuracy": (
        "balanced_accuracy",
        r"Balanced test accuracy (\%, the mean of the per-class accuracies)",
        "Balanced test accuracy (%, the mean of the per-class accuracies)",
    ),
}

DETECTION_COLUMNS: tuple[str, ...] = (
    "dataset",
    "ratio",
    "seed",
    "detector",
    "roc_auc",
    "accuracy",
    "precision",
)
UNLEARNING_COLUMNS: tuple[str, ...] = (
    "dataset",
    "ratio",
    "seed",
    "method",
    "target",
    "test_accuracy",
)
_STRING_COLUMNS = ("dataset", "detector", "method", "target", "scope", "curvature")
_KEY_COLUMNS = ("dataset", "ratio", "seed", "detector", "method", "target")
MISSING = "--"
PM_LATEX = r" $\pm$ "
PM_PLAIN = " ± "
TABLE_FILES = ("table_5_1.tex", "table_5_2.tex", "table_5_3.tex")


class CellFormat(NamedTuple):
    """How one kind of cell is printed: value x scale, mean/std formats, allowed range."""

    scale: float
    mean: str
    std: str
    bounds: tuple[float, float] | None
    expected: str


# auc: 0.93; percent: 93.5 (of a fraction); fraction: 0.051; corr: -0.42 (a correlation);
# pp: +1.3 (difference of two fractions, in percentage points); real: 3 significant digits.
CELL_FORMATS: dict[str, CellFormat] = {
    "auc": CellFormat(1.0, ".2f", ".2f", (0.0, 1.0), "fractions in [0, 1]"),
    "percent": CellFormat(100.0, ".1f", ".1f", (0.0, 1.0), "fractions in [0, 1]"),
    "fraction": CellFormat(1.0, ".3f", ".3f", (0.0, 1.0), "fractions in [0, 1]"),
    "corr": CellFormat(1.0, ".2f", ".2f", (-1.0, 1.0), "correlations in [-1, 1]"),
    "pp": CellFormat(100.0, "+.1f", ".1f", (-1.0, 1.0), "differences of fractions in [-1, 1]"),
    "real": CellFormat(1.0, ".3g", ".3g", None, "real numbers"),
}
CELL_KINDS = tuple(CELL_FORMATS)


class Row(NamedTuple):
    """One table row. kind: "row" (label + cells), "sub" (indented row),
    "group" (spanning heading after a rule), "head" (spanning heading, no rule)."""

    label: str
    cells: tuple[str, ...] = ()
    kind: str = "row"


class Style(NamedTuple):
    """How labels and cells are spelled: `which` picks the LaTeX (0) or plain (1) label."""

    which: int
    pm: str
    escape: Callable[[str], str]


_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: object) -> str:
    """Escape LaTeX special characters in user-provided text."""
    return "".join(_TEX_SPECIALS.get(ch, ch) for ch in str(text))


def markdown_escape(text: object) -> str:
    """Escape characters that would break a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", r"\|")


LATEX = Style(which=0, pm=PM_LATEX, escape=latex_escape)
MARKDOWN = Style(which=1, pm=PM_PLAIN, escape=markdown_escape)


def format_cell(
    values: Iterable[float], kind: str, *, pm: str = PM_LATEX, missing: str = MISSING
) -> str:
    """Format the per-seed values of one table cell.

    Args:
      values: one per seed; NaNs are ignored. Fractions in [0, 1] for "auc" (two decimals),
        "percent" (x100, one decimal) and "fraction" (three decimals); values in [-1, 1]
        for "corr" (two decimals) and "pp" (x100, signed, one decimal); anything for
        "real" (three significant digits).
      kind: one of `CELL_KINDS`.
      pm: separator between mean and std (LaTeX `$\\pm$` or plain `±`).
      missing: text for a cell without any finite value.

    Returns:
      `missing`; the plain value for one seed; `mean{pm}std` (sample std, ddof=1) otherwise.
    """
    if kind not in CELL_FORMATS:
        raise ValueError(f"kind must be one of {CELL_KINDS}, got {kind!r}")
    fmt = CELL_FORMATS[kind]
    arr = np.asarray(list(values), dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return missing
    if fmt.bounds is not None:
        lo, hi = fmt.bounds
        if np.any((arr < lo - 1e-9) | (arr > hi + 1e-9)):
            raise ValueError(f"expected {fmt.expected} for a {kind} cell, got {arr.tolist()}")
    mean = fmt.scale * arr.mean()
    if arr.size == 1:
        return f"{mean:{fmt.mean}}"
    std = fmt.scale * arr.std(ddof=1)
    return f"{mean:{fmt.mean}}{pm}{std:{fmt.std}}"


def load_results(
    path: str | os.PathLike,
    required: Sequence[str],
    *,
    dataset: str,
    keys: Sequence[str] = _KEY_COLUMNS,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Read a result CSV, check its columns and keys, and keep the rows of `dataset`.

    Args:
      required: columns that must be present; those not named in `_STRING_COLUMNS` must be
        numeric.
      keys: the columns (those present) that identify a row; duplicates are an error.
      allow_empty: return an empty frame instead of raising when `dataset` has no rows.
    """
    df = pd.read_csv(path, keep_default_na=False, na_values=["", "nan", "NaN"])
    missing = [col for col in required if col not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing required column(s) {', '.join(missing)}")
    for col in df.columns:
        if col in _STRING_COLUMNS:
            df[col] = df[col].astype(str)
    for col in required:
        if col not in _STRING_COLUMNS:
            try:
                df[col] = pd.to_numeric(df[col])
            except (ValueError, TypeError) as err:
                raise ValueError(f"{path}: column {col!r} is not numeric: {err}") from err
    rows = df[df["dataset"] == dataset]
    if rows.empty and not allow_empty:
        present = sorted(df["dataset"].unique().tolist())
        raise ValueError(f"{path}: no rows for dataset {dataset!r} (datasets present: {present})")
    present_keys = [col for col in keys if col in rows.columns]
    dup = rows.duplicated(subset=present_keys, keep=False)
    if dup.any():
        first = rows.loc[dup, present_keys].iloc[0].to_dict()
        raise ValueError(f"{path}: duplicate rows for key {first}")
    return rows.reset_index(drop=True)


def sorted_ratios(df: pd.DataFrame) -> list[float]:
    """Noise ratios present in `df`, ascending."""
    return sorted(float(r) for r in df["ratio"].unique())


def ratio_label(ratio: float) -> str:
    """Column header for a noise ratio (0.05 -> "0.05")."""
    return f"{ratio:g}"


def seed_phrase(n_seeds: int, *, pm: str = PM_LATEX) -> str:
    """Caption phrase for how cells aggregate seeds."""
    if n_seeds == 1:
        return "1 seed"
    return f"mean{pm}std over {n_seeds} seeds"


def ordered(present: Iterable[str], known: Sequence[str]) -> list[str]:
    """Known names in paper order, then unknown names sorted."""
    found = set(present)
    return [k for k in known if k in found] + sorted(found - set(known))


def label_of(name: str, labels: dict[str, tuple[str, str]], style: Style) -> str:
    """Display label of a known name, or the escaped raw name."""
    return labels[name][style.which] if name in labels else style.escape(name)


def cells_by_ratio(
    rows: pd.DataFrame, value: str, kind: str, ratios: Sequence[float], style: Style
) -> tuple[str, ...]:
    """One formatted cell per ratio from the per-seed values in `rows`."""
    return tuple(
        format_cell(rows.loc[np.isclose(rows["ratio"], r), value], kind, pm=style.pm)
        for r in ratios
    )


def paper_detection(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the paper's detectors (Table 5.1 and its curve)."""
    return df[df["detector"].isin(PAPER_DETECTORS)]


def paper_unlearning(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the paper's methods and forget sets (Tables 5.2, 5.3 and their curves)."""
    pretrained = (df["method"] == "pretrained") & (df["target"] == "none")
    paper = df["method"].isin(PAPER_METHODS) & df["target"].isin(PAPER_TARGETS)
    return df[pretrained | paper]


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


def _pretrained(df: pd.DataFrame) -> pd.DataFrame:
    return df[(df["method"] == "pretrained") & (df["target"] == "none")]


def _methods(df: pd.DataFrame) -> list[str]:
    return [m for m in ordered(df["method"], list(METHOD_LABELS)) if m != "pretrained"]


def method_label(method: str, target: str, style: Style = LATEX) -> str:
    """Row label of a method; retraining on the known mislabeled set is "on D_clean"."""
    if method == "retrain" and target == "mislabeled":
        return RETRAIN_ON_CLEAN[style.which]
    return label_of(method, METHOD_LABELS, style)


def budget_phrase(det: pd.DataFrame, style: Style = LATEX) -> str:
    """Caption phrase for the number m of flags in `det` (its `budget` column; summaries
    written before that column existed used the nominal budget)."""
    modes = sorted(set(det["budget"].astype(str))) if "budget" in det.columns else ["nominal"]
    return "; ".join(
        BUDGET_PHRASES[m][style.which] if m in BUDGET_PHRASES else style.escape(m) for m in modes
    )


def pretrained_rows(
    df: pd.DataFrame, ratios: Sequence[float], style: Style = LATEX, value: str = "test_accuracy"
) -> list[Row]:
    """The Pre-trained row (method pretrained, target none), or nothing if absent."""
    pre = _pretrained(df)
    if pre.empty:
        return []
    label = METHOD_LABELS["pretrained"][style.which]
    return [Row(label, cells_by_ratio(pre, value, "percent", ratios, style))]


def unlearning_rows(
    df: pd.DataFrame,
    ratios: Sequence[float],
    *,
    target: str,
    style: Style = LATEX,
    value: str = "test_accuracy",
) -> list[Row]:
    """Table 5.2 (target="mislabeled"): Pre-trained, then one row per method for `target`;
    cells show the column `value` (test_accuracy or balanced_accuracy)."""
    out = pretrained_rows(df, ratios, style, value)
    for method in _methods(df):
        sub = df[(df["method"] == method) & (df["target"] == target)]
        if sub.empty:
            continue
        cells = cells_by_ratio(sub, value, "percent", ratios, style)
        out.append(Row(method_label(method, target, style), cells))
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
    """Table 5.3: Pre-trained, then per method one sub-row per forget set (target).

    Args:
      targets: the forget sets to show, in this order; None: every one present (known first).
      target_labels: sub-row labels of known targets; others read "on <name>".
      value: the column shown (test_accuracy or balanced_accuracy).
    """
    out = pretrained_rows(df, ratios, style, value)
    for method in _methods(df):
        rows = df[(df["method"] == method) & (df["target"] != "none")]
        present = set(rows["target"])
        shown = (
            ordered(present, list(TARGET_LABELS))
            if targets is None
            else [t for t in targets if t in present]
        )
        if not shown:
            continue
        out.append(Row(label_of(method, METHOD_LABELS, style), kind="head"))
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


def n_seeds(df: pd.DataFrame) -> int:
    """Number of distinct seeds in `df`."""
    return int(df["seed"].nunique())


def dataset_label(dataset: str) -> str:
    """Display name of a dataset (escaped for LaTeX)."""
    return DATASET_LABELS.get(dataset, latex_escape(dataset))


def template_env() -> jinja2.Environment:
    """Jinja2 environment for the package's LaTeX templates (`<% %>`, `<< >>`, `<# #>`)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mislabel", "templates"),
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<<",
        variable_end_string=">>",
        comment_start_string="<#",
        comment_end_string="#>",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )


def span_line(spans: Sequence[tuple[str, int]]) -> str:
    """A header row of cells spanning columns, with a `\\cmidrule` under each non-empty one.

    Args:
      spans: (LaTeX text, number of columns) pairs covering every column, left to right.
    """
    cells, rules, start = [], [], 1
    for text, width in spans:
        if width < 1:
            raise ValueError(f"a span must cover at least one column, got {width}")
        cells.append(text if width == 1 else rf"\multicolumn{{{width}}}{{c}}{{{text}}}")
        if text:
            rules.append(rf"\cmidrule(lr){{{start}-{start + width - 1}}}")
        start += width
    return " & ".join(cells) + r" \\ " + "".join(rules)


def render_grid_tex(
    rows: Sequence[Row],
    header: Sequence[str],
    *,
    caption: str,
    label: str,
    spans: Sequence[tuple[str, int]] = (),
) -> str:
    """Lay out `rows` as a booktabs `table` environment with the given column headings.

    Args:
      rows: label and one cell per column after the first.
      header: LaTeX heading of every column, the label column first.
      spans: optional header row above `header` (see `span_line`).
    """
    if spans and sum(width for _, width in spans) != len(header):
        raise ValueError(f"spans cover {sum(w for _, w in spans)} columns, not {len(header)}")
    return (
        template_env()
        .get_template("table.tex.j2")
        .render(
            rows=rows,
            header=list(header),
            spans=span_line(spans) if spans else "",
            caption=caption,
            label=label,
        )
    )


def render_table_tex(
    rows: Sequence[Row], ratios: Sequence[float], *, caption: str, label: str
) -> str:
    """Lay out `rows` as a booktabs `table` environment (one column per ratio)."""
    header = ["$r$", *(ratio_label(r) for r in ratios)]
    return render_grid_tex(rows, header, caption=caption, label=label)


def check_metric(metric: str) -> tuple[str, str, str]:
    """(summary column, LaTeX, plain phrase) of a test metric (`TEST_METRICS`)."""
    if metric not in TEST_METRICS:
        raise ValueError(f"unknown test metric {metric!r}; choose one of {list(TEST_METRICS)}")
    return TEST_METRICS[metric]


def table_5_1_tex(det: pd.DataFrame, dataset: str) -> str:
    """Table 5.1: detection metrics per paper detector and noise ratio."""
    det = paper_detection(det)
    ratios = sorted_ratios(det)
    caption = (
        f"Detection of mislabeled training samples on {dataset_label(dataset)}: ROC AUC, and "
        rf"accuracy and precision (\%) of the top-$m$ flags ({budget_phrase(det)}), per "
        f"detector and noise ratio $r$ ({seed_phrase(n_seeds(det))})."
    )
    return render_table_tex(detection_rows(det, ratios), ratios, caption=caption, label="tab:5-1")


def table_5_2_tex(unl: pd.DataFrame, dataset: str, metric: str = "accuracy") -> str:
    """Table 5.2: test accuracy after forgetting the known mislabeled set (paper methods)."""
    value, what, _ = check_metric(metric)
    unl = paper_unlearning(unl)
    ratios = sorted_ratios(unl)
    rows = unlearning_rows(unl, ratios, target="mislabeled", value=value)
    used = unl[(unl["target"] == "mislabeled") | (unl["method"] == "pretrained")]
    caption = (
        f"{what} on {dataset_label(dataset)} after forgetting the known mislabeled "
        r"set $D_{\mathrm{mislabeled}}$, per method and noise ratio $r$ "
        f"({seed_phrase(n_seeds(used))})."
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
        + f", per noise ratio $r$ ({seed_phrase(n_seeds(unl))})."
    )
    rows = full_method_rows(unl, ratios, value=value)
    return render_table_tex(rows, ratios, caption=caption, label="tab:5-3")


def render_tables(
    detection_csv: str | os.PathLike,
    unlearning_csv: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    dataset: str = "mnist",
    metric: str = "accuracy",
) -> list[Path]:
    """Write `table_5_1.tex`, `table_5_2.tex` and `table_5_3.tex` into `out_dir`.

    `metric` is the test metric of Tables 5.2-5.3 (`TEST_METRICS`).

    Returns:
      The three written paths, in table order.
    """
    value = check_metric(metric)[0]
    det = load_results(detection_csv, DETECTION_COLUMNS, dataset=dataset)
    unl = load_results(unlearning_csv, (*UNLEARNING_COLUMNS, value), dataset=dataset)
    texts = (
        table_5_1_tex(det, dataset),
        table_5_2_tex(unl, dataset, metric),
        table_5_3_tex(unl, dataset, metric, budget_phrase(paper_detection(det))),
    )
    paths = [Path(out_dir) / name for name in TABLE_FILES]
    for path, text in zip(paths, texts, strict=True):
        atomic.write_text(path, text)
    return paths
