"""Table cells and rows: how a value is printed, how text is escaped, what a row holds.

A `Row` is what every table builder returns and every layout (LaTeX template, Markdown)
reads, so LaTeX and Markdown never disagree on a cell; a `Style` picks the spelling;
`grid_markdown` lays rows out as a GitHub Markdown table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

MISSING = "--"
PM_LATEX = r" $\pm$ "
PM_PLAIN = " ± "


class CellFormat(NamedTuple):
    """How one kind of cell is printed: value x scale, mean/std formats, allowed range.
    A format of None takes its decimals from the column (`column_decimals`)."""

    scale: float
    mean: str | None
    std: str | None
    bounds: tuple[float, float] | None
    expected: str


# Every cell of a column has one format, mean and std alike: auc: 0.93; percent: 93.5 (of a
# fraction); fraction: 0.051; corr: -0.42 (a correlation); pp: +1.3 (difference of two
# fractions, in percentage points); count: 37 (a mean count, to the unit); real: the
# decimals of its column.
CELL_FORMATS: dict[str, CellFormat] = {
    "auc": CellFormat(1.0, ".2f", ".2f", (0.0, 1.0), "fractions in [0, 1]"),
    "percent": CellFormat(100.0, ".1f", ".1f", (0.0, 1.0), "fractions in [0, 1]"),
    "fraction": CellFormat(1.0, ".3f", ".3f", (0.0, 1.0), "fractions in [0, 1]"),
    "corr": CellFormat(1.0, ".2f", ".2f", (-1.0, 1.0), "correlations in [-1, 1]"),
    "pp": CellFormat(100.0, "+.1f", ".1f", (-1.0, 1.0), "differences of fractions in [-1, 1]"),
    "count": CellFormat(1.0, ".0f", ".0f", (0.0, np.inf), "counts >= 0"),
    "real": CellFormat(1.0, None, None, None, "real numbers"),
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
# Plain text, for a layout that escapes it itself (HTML).
PLAIN = Style(which=1, pm=PM_PLAIN, escape=str)


def column_decimals(values: Iterable[float], *, digits: int = 2, most: int = 4) -> int:
    """The decimals of a column of real numbers: enough for `digits` significant digits of
    its smallest non-zero magnitude, at most `most`."""
    arr = np.abs(np.asarray(list(values), dtype=float))
    arr = arr[np.isfinite(arr) & (arr > 0)]
    if arr.size == 0:
        return 0
    return int(np.clip(digits - 1 - np.floor(np.log10(arr.min())), 0, most))


def format_cell(
    values: Iterable[float],
    kind: str,
    *,
    pm: str = PM_LATEX,
    missing: str = MISSING,
    decimals: int | None = None,
) -> str:
    """Format the per-seed values of one table cell.

    Args:
      values: one per seed; NaNs are ignored. Fractions in [0, 1] for "auc" (two decimals),
        "percent" (x100, one decimal) and "fraction" (three decimals); values in [-1, 1]
        for "corr" (two decimals) and "pp" (x100, signed, one decimal); counts for
        "count" (no decimals); anything for "real" (`decimals`, the column's).
      kind: one of `CELL_KINDS`.
      pm: separator between mean and std (LaTeX `$\\pm$` or plain `±`).
      missing: text for a cell without any finite value.
      decimals: the decimals of a "real" cell (its column's, `column_decimals`).

    Returns:
      `missing`; the plain value for one seed; `mean{pm}std` (sample std, ddof=1) otherwise;
      mean and std with the same decimals.
    """
    if kind not in CELL_FORMATS:
        raise ValueError(f"kind must be one of {CELL_KINDS}, got {kind!r}")
    fmt = CELL_FORMATS[kind]
    if (fmt.mean is None) != (decimals is not None):
        raise ValueError(f"decimals are given for a real cell and only for one, got {decimals}")
    mean_fmt, std_fmt = (fmt.mean, fmt.std) if decimals is None else (f".{decimals}f",) * 2
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
        return f"{mean:{mean_fmt}}"
    std = fmt.scale * arr.std(ddof=1)
    return f"{mean:{mean_fmt}}{pm}{std:{std_fmt}}"


def count_cell(values: Iterable[float]) -> str:
    """An integer if all finite `values` agree, else their range; `--` if none."""
    arr = np.asarray(list(values), dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return MISSING
    lo, hi = arr.min(), arr.max()
    return f"{lo:g}" if lo == hi else f"{lo:g}--{hi:g}"


def damping_cell(used: Iterable[float], configured: Iterable[float]) -> str:
    """The damping a closed-form step used over the seeds of one cell: its value (or range,
    `count_cell`), then how many runs raised it above the configured damping, e.g.
    `1--2 (1 of 5 raised)`; `--` if no run recorded one. NaN in `configured`: not recorded,
    so no count."""
    used_arr = np.asarray(list(used), dtype=float)
    conf_arr = np.asarray(list(configured), dtype=float)
    if used_arr.shape != conf_arr.shape:
        raise ValueError(f"{used_arr.size} damping values used, {conf_arr.size} configured")
    known = np.isfinite(used_arr)
    cell = count_cell(used_arr)
    if not known.any() or not np.isfinite(conf_arr[known]).all():
        return cell
    raised = int(np.sum(used_arr[known] > conf_arr[known]))
    return f"{cell} ({raised} of {int(known.sum())} raised)" if raised else cell


def cells_by_ratio(
    rows: pd.DataFrame, value: str, kind: str, ratios: Sequence[float], style: Style
) -> tuple[str, ...]:
    """One formatted cell per ratio from the per-seed values in `rows`."""
    return tuple(
        format_cell(rows.loc[np.isclose(rows["ratio"], r), value], kind, pm=style.pm)
        for r in ratios
    )


def grid_markdown(rows: Sequence[Row], header: Sequence[str]) -> str:
    """Lay out table rows as Markdown under `header`: the label column left-aligned, the
    others right-aligned; spanning rows bold."""
    lines = ["| " + " | ".join(header) + " |", "|:--|" + "--:|" * (len(header) - 1)]
    for row in rows:
        if row.kind in ("group", "head"):
            cells: Sequence[str] = [f"**{row.label}**"] + [""] * (len(header) - 1)
        else:
            label = f"&nbsp;&nbsp;{row.label}" if row.kind == "sub" else row.label
            cells = [label, *row.cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
