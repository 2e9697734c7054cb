"""Table 5.2 (or its analogue for another forget set) as a GitHub Markdown table."""

from __future__ import annotations

import os
from collections.abc import Sequence

from mislabel.report.cells import MARKDOWN, Row
from mislabel.report.frames import PAPER_UNLEARNERS, UNLEARNING_COLUMNS, load_results, sorted_ratios
from mislabel.report.labels import ratio_label
from mislabel.report.unlearning_tables import unlearning_rows


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
