"""LaTeX layout: the package's Jinja2 templates for tables, figures and the paper."""

from __future__ import annotations

from collections.abc import Sequence

import jinja2

from mislabel.report.cells import Row
from mislabel.report.labels import NOT_RUN, ratio_label, sentence, with_note


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


def ratio_header(ratios: Sequence[float]) -> list[str]:
    """Column headings of a table with one column per noise ratio."""
    return ["$r$", *(ratio_label(r) for r in ratios)]


def render_table_tex(
    rows: Sequence[Row], ratios: Sequence[float], *, caption: str, label: str
) -> str:
    """Lay out `rows` as a booktabs `table` environment (one column per ratio)."""
    return render_grid_tex(rows, ratio_header(ratios), caption=caption, label=label)


def note_row(text: str = NOT_RUN) -> Row:
    """A spanning italic row that says `text` (capitalised, full stop)."""
    return Row(rf"\textit{{{sentence(text)}}}", kind="head")


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


def figure_tex(*, graphic: str, caption: str, label: str, width: float) -> str:
    """A LaTeX figure environment including `graphic` (a path relative to the .tex) at
    `width`, a fraction of the line width."""
    if not 0 < width <= 1:
        raise ValueError(f"width must be a fraction of the line width in (0, 1], got {width}")
    template = template_env().get_template("figure.tex.j2")
    return template.render(
        graphic=graphic, caption=caption, label=label, width=f"{round(width, 3):g}"
    )
