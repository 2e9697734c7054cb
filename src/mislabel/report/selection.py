"""The table that chooses the repair's defaults: every unlearner's accuracy on validation
splits carved from the training data (`mislabel.stages.selection`), per noise ratio.

The default unlearner is the candidate with the highest mean validation accuracy over the
noise ratios among those both repair commands offer (`mislabel.registry.HEAD_UNLEARNERS`);
NegGrad+ comes with each momentum of `NEGGRAD_MOMENTA`, and the better one sets
``neggrad_momentum``. `chosen_default` reads the choice back from the rendered table, so a
test can hold the settings to it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from mislabel.files.atomic import write_text
from mislabel.registry import HEAD_UNLEARNERS, UNLEARNERS
from mislabel.report.cells import MARKDOWN, Row, format_cell, grid_markdown
from mislabel.report.labels import UNLEARNER_LABELS, label_of, ratio_label

CHOSEN_RE = re.compile(
    r"Chosen: `(?P<unlearner>\w+)`(?:, `neggrad_momentum` (?P<momentum>[0-9.]+))?"
)


def _candidate(row) -> str:
    if np.isnan(row.neggrad_momentum):
        return row.unlearner
    return f"{row.unlearner}@{row.neggrad_momentum:g}"


def _label(candidate: str) -> str:
    name, _, momentum = candidate.partition("@")
    label = label_of(name, UNLEARNER_LABELS, MARKDOWN)
    return f"{label}, momentum {momentum}" if momentum else label


def selection_table(selection_csv: str | os.PathLike) -> tuple[str, str, float | None]:
    """(Markdown table, chosen unlearner, its NegGrad+ momentum or None)."""
    df = pd.read_csv(selection_csv)
    df["candidate"] = [_candidate(r) for r in df.itertuples()]
    ratios = sorted(df["ratio"].unique())
    per_ratio = df.groupby(["candidate", "ratio"])["validation_accuracy"].mean().unstack()
    registry = list(UNLEARNERS)
    order = sorted(
        dict.fromkeys(df["candidate"]),
        key=lambda c: (
            registry.index(c.partition("@")[0])
            if c.partition("@")[0] in registry
            else len(registry),
            c,
        ),
    )
    eligible = [c for c in order if c.partition("@")[0] in HEAD_UNLEARNERS]
    # The mean over noise ratios (each ratio's mean over seeds), as the table shows it.
    score = per_ratio.mean(axis=1)
    best = max(eligible, key=lambda c: (score[c], -order.index(c)))
    neggrad = [c for c in order if c.startswith("neggrad_plus@")]
    best_momentum = max(neggrad, key=lambda c: (score[c], -order.index(c))) if neggrad else None
    rows = []
    for c in order:
        mine = df[df.candidate == c]
        cells = tuple(
            format_cell(
                mine.loc[np.isclose(mine.ratio, r), "validation_accuracy"],
                "percent",
                pm=MARKDOWN.pm,
            )
            for r in ratios
        )
        mean = f"{100 * score[c]:.2f}"
        label = _label(c) + ("" if c in eligible else " (model files only)")
        if c == best:
            label, mean = f"**{label}**", f"**{mean}**"
        rows.append(Row(label, (*cells, mean)))
    header = ["unlearner", *(ratio_label(r) for r in ratios), "mean"]
    unlearner, _, momentum = best.partition("@")
    if unlearner != "neggrad_plus" and best_momentum is not None:
        momentum = best_momentum.partition("@")[2]
    chosen = f"Chosen: `{unlearner}`" + (f", `neggrad_momentum` {momentum}" if momentum else "")
    seeds = df["seed"].nunique()
    text = (
        f"Validation accuracy (%) against the true labels of one stratified fifth of each "
        f"run's training samples, after training on the other four fifths and forgetting "
        f"the pipeline detector's top m there ({df['dataset'].iloc[0]}, mean ± std over "
        f"{seeds} seed{'s' if seeds > 1 else ''}; mean: over the noise ratios). The test "
        "split is never read.\n\n"
        + grid_markdown(rows, header)
        + f"\n{chosen} (the highest mean among the unlearners both `repair` and "
        "`repair-head` offer; NegGrad+'s momentum: the better of its two rows).\n"
    )
    return text, unlearner, float(momentum) if momentum else None


def render_selection(selection_csv: str | os.PathLike, out_md: str | os.PathLike) -> Path:
    """Write the selection table (`selection_table`) as Markdown."""
    text, _, _ = selection_table(selection_csv)
    write_text(out_md, text)
    return Path(out_md)


def chosen_default(markdown: str) -> tuple[str, float | None]:
    """(unlearner, NegGrad+ momentum or None) that a rendered selection table chose."""
    found = CHOSEN_RE.search(markdown)
    if found is None:
        raise ValueError("the selection table names no chosen default")
    momentum = found.group("momentum")
    return found.group("unlearner"), float(momentum) if momentum else None
