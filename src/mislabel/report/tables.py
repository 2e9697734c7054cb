"""Tables 5.1-5.3 of the paper as LaTeX (booktabs), built from the pipeline's result CSVs.

Rows are built by pure functions (`detection_rows`, `unlearning_rows`, `full_method_rows`)
that return `Row`s; templates only lay them out. The same rows feed the Markdown renderer,
so LaTeX and Markdown never disagree on a cell.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import jinja2
import numpy as np
import pandas as pd

from mislabel import io

# Paper order first; anything else is rendered afterwards under its raw (escaped) name.
# Each label is a (LaTeX, plain text) pair.
DETECTOR_LABELS: dict[str, tuple[str, str]] = {
    "loss": ("Loss", "Loss"),
    "if_self": (r"$I_{\mathrm{up,loss}}(z, z)$", "I_up,loss(z, z)"),
    "if_train": (r"$I_{\mathrm{up,loss}}(D_{\mathrm{train}}, z)$", "I_up,loss(D_train, z)"),
    "if_train_minus_z": (
        r"$I_{\mathrm{up,loss}}(D_{\mathrm{train}} \setminus z, z)$",
        "I_up,loss(D_train \\ z, z)",
    ),
}
METHOD_LABELS: dict[str, tuple[str, str]] = {
    "pretrained": ("Pre-trained", "Pre-trained"),
    "influence": ("Influence function", "Influence function"),
    "ssse": ("SSSE", "SSSE"),
    "finetune": ("Fine-tuned", "Fine-tuned"),
    "retrain": ("Retrained", "Retrained"),
}
# Table 5.2 names the retrained row after what it was trained on.
RETRAIN_ON_CLEAN: tuple[str, str] = (r"Retrained on $D_{\mathrm{clean}}$", "Retrained on D_clean")
TARGET_LABELS: dict[str, tuple[str, str]] = {
    "mislabeled": (r"on $D_{\mathrm{mislabeled}}$", "on D_mislabeled"),
    "detected": (r"on $D_{\mathrm{detected}}$", "on D_detected"),
}
# Table 5.1 groups: (column, cell kind, LaTeX heading, plain heading).
DETECTION_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("roc_auc", "auc", "ROC AUC", "ROC AUC"),
    ("accuracy", "percent", r"Accuracy (\%)", "Accuracy (%)"),
    ("precision", "percent", r"Precision (\%)", "Precision (%)"),
)
DATASET_LABELS: dict[str, str] = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}

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
_STRING_COLUMNS = ("dataset", "detector", "method", "target")
_KEY_COLUMNS = ("dataset", "ratio", "seed", "detector", "method", "target")
CELL_KINDS = ("auc", "percent")
MISSING = "--"
PM_LATEX = r" $\pm$ "
PM_PLAIN = " ± "
TABLE_FILES = ("table_5_1.tex", "table_5_2.tex", "table_5_3.tex")


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
      values: fractions in [0, 1], one per seed; NaNs are ignored.
      kind: "auc" (two decimals) or "percent" (x100, one decimal).
      pm: separator between mean and std (LaTeX `$\\pm$` or plain `±`).
      missing: text for a cell without any finite value.

    Returns:
      `missing`; the plain value for one seed; `mean{pm}std` (sample std, ddof=1) otherwise.
    """
    if kind not in CELL_KINDS:
        raise ValueError(f"kind must be one of {CELL_KINDS}, got {kind!r}")
    arr = np.asarray(list(values), dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return missing
    if np.any((arr < -1e-9) | (arr > 1 + 1e-9)):
        raise ValueError(f"expected fractions in [0, 1] for a {kind} cell, got {arr.tolist()}")
    scale, digits = (1.0, 2) if kind == "auc" else (100.0, 1)
    mean = scale * arr.mean()
    if arr.size == 1:
        return f"{mean:.{digits}f}"
    std = scale * arr.std(ddof=1)
    return f"{mean:.{digits}f}{pm}{std:.{digits}f}"


def load_results(path: str | os.PathLike, required: Sequence[str], *, dataset: str) -> pd.DataFrame:
    """Read a result CSV, check its columns and keys, and keep the rows of `dataset`."""
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
    if rows.empty:
        present = sorted(df["dataset"].unique().tolist())
        raise ValueError(f"{path}: no rows for dataset {dataset!r} (datasets present: {present})")
    keys = [col for col in _KEY_COLUMNS if col in rows.columns]
    dup = rows.duplicated(subset=keys, keep=False)
    if dup.any():
        first = rows.loc[dup, keys].iloc[0].to_dict()
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
    names = set(present)
    return [k for k in known if k in names] + sorted(names - set(known))


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


def detection_rows(df: pd.DataFrame, ratios: Sequence[float], style: Style = LATEX) -> list[Row]:
    """Table 5.1: per metric group, one row per detector present."""
    detectors = ordered(df["detector"], list(DETECTOR_LABELS))
    out: list[Row] = []
    for col, kind, tex_head, plain_head in DETECTION_METRICS:
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


def pretrained_rows(df: pd.DataFrame, ratios: Sequence[float], style: Style = LATEX) -> list[Row]:
    """The Pre-trained row (method pretrained, target none), or nothing if absent."""
    pre = _pretrained(df)
    if pre.empty:
        return []
    label = METHOD_LABELS["pretrained"][style.which]
    return [Row(label, cells_by_ratio(pre, "test_accuracy", "percent", ratios, style))]


def unlearning_rows(
    df: pd.DataFrame, ratios: Sequence[float], *, target: str, style: Style = LATEX
) -> list[Row]:
    """Table 5.2 (target="mislabeled"): Pre-trained, then one row per method for `target`."""
    out = pretrained_rows(df, ratios, style)
    for method in _methods(df):
        sub = df[(df["method"] == method) & (df["target"] == target)]
        if sub.empty:
            continue
        if method == "retrain" and target == "mislabeled":
            label = RETRAIN_ON_CLEAN[style.which]
        else:
            label = label_of(method, METHOD_LABELS, style)
        out.append(Row(label, cells_by_ratio(sub, "test_accuracy", "percent", ratios, style)))
    return out


def full_method_rows(df: pd.DataFrame, ratios: Sequence[float], style: Style = LATEX) -> list[Row]:
    """Table 5.3: Pre-trained, then per method one sub-row per forget set (target)."""
    out = pretrained_rows(df, ratios, style)
    for method in _methods(df):
        rows = df[(df["method"] == method) & (df["target"] != "none")]
        if rows.empty:
            continue
        out.append(Row(label_of(method, METHOD_LABELS, style), kind="head"))
        for target in ordered(rows["target"], list(TARGET_LABELS)):
            sub = rows[rows["target"] == target]
            label = (
                TARGET_LABELS[target][style.which]
                if target in TARGET_LABELS
                else "on " + style.escape(target)
            )
            cells = cells_by_ratio(sub, "test_accuracy", "percent", ratios, style)
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


def render_table_tex(
    rows: Sequence[Row], ratios: Sequence[float], *, caption: str, label: str
) -> str:
    """Lay out `rows` as a booktabs `table` environment (one column per ratio)."""
    return (
        template_env()
        .get_template("table.tex.j2")
        .render(
            rows=rows,
            ratios=[ratio_label(r) for r in ratios],
            caption=caption,
            label=label,
        )
    )


def table_5_1_tex(det: pd.DataFrame, dataset: str) -> str:
    """Table 5.1: detection metrics per detector and noise ratio."""
    ratios = sorted_ratios(det)
    caption = (
        f"Detection of mislabeled training samples on {dataset_label(dataset)}: ROC AUC, and "
        r"accuracy and precision (\%) of the top-$m$ flags ($m = \mathrm{round}(nr)$), per "
        f"detector and noise ratio $r$ ({seed_phrase(n_seeds(det))})."
    )
    return render_table_tex(detection_rows(det, ratios), ratios, caption=caption, label="tab:5-1")


def table_5_2_tex(unl: pd.DataFrame, dataset: str) -> str:
    """Table 5.2: test accuracy after forgetting the known mislabeled set."""
    ratios = sorted_ratios(unl)
    rows = unlearning_rows(unl, ratios, target="mislabeled")
    used = unl[(unl["target"] == "mislabeled") | (unl["method"] == "pretrained")]
    caption = (
        rf"Test accuracy (\%) on {dataset_label(dataset)} after forgetting the known mislabeled "
        r"set $D_{\mathrm{mislabeled}}$, per method and noise ratio $r$ "
        f"({seed_phrase(n_seeds(used))})."
    )
    return render_table_tex(rows, ratios, caption=caption, label="tab:5-2")


def table_5_3_tex(unl: pd.DataFrame, dataset: str) -> str:
    """Table 5.3: test accuracy of the full method (forget detected vs. mislabeled)."""
    ratios = sorted_ratios(unl)
    caption = (
        rf"Test accuracy (\%) on {dataset_label(dataset)} of the full method: each unlearning "
        r"method forgets either the known $D_{\mathrm{mislabeled}}$ or the detected "
        r"$D_{\mathrm{detected}}$, per noise ratio $r$ "
        f"({seed_phrase(n_seeds(unl))})."
    )
    return render_table_tex(full_method_rows(unl, ratios), ratios, caption=caption, label="tab:5-3")


def render_tables(
    detection_csv: str | os.PathLike,
    unlearning_csv: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    dataset: str = "mnist",
) -> list[Path]:
    """Write `table_5_1.tex`, `table_5_2.tex` and `table_5_3.tex` into `out_dir`.

    Returns:
      The three written paths, in table order.
    """
    det = load_results(detection_csv, DETECTION_COLUMNS, dataset=dataset)
    unl = load_results(unlearning_csv, UNLEARNING_COLUMNS, dataset=dataset)
    texts = (table_5_1_tex(det, dataset), table_5_2_tex(unl, dataset), table_5_3_tex(unl, dataset))
    paths = [Path(out_dir) / name for name in TABLE_FILES]
    for path, text in zip(paths, texts, strict=True):
        io.write_text(path, text)
    return paths
