"""Phrases the captions share: seeds, noise ratios, budgets, and "not run" notes."""

from __future__ import annotations

import pandas as pd

from mislabel.report.cells import LATEX, PM_LATEX, Style
from mislabel.report.labels import BUDGET_PHRASES

NOT_RUN = "not run in this configuration"


def seed_phrase(n_seeds: int, *, pm: str = PM_LATEX) -> str:
    """Caption phrase for how cells aggregate seeds."""
    if n_seeds == 1:
        return "1 seed"
    return f"mean{pm}std over {n_seeds} seeds"


def band_phrase(k: int) -> str:
    """Caption phrase for curves: mean line and +-std band over k seeds."""
    if k > 1:
        return f"line: mean, band: $\\pm$ std over {k} seeds"
    return seed_phrase(k)


def per_ratio(n_seeds: int, by: str = "") -> str:
    """The caption tail of a table with one column per noise ratio:
    `per [<by> and ]noise ratio $r$ (<how the cells aggregate seeds>).`"""
    return f"per {by + ' and ' if by else ''}noise ratio $r$ ({seed_phrase(n_seeds)})."


def budget_phrase(det: pd.DataFrame, style: Style = LATEX) -> str:
    """Caption phrase for the number m of flags in `det` (its `budget` column; summaries
    written before that column existed used the nominal budget)."""
    modes = sorted(set(det["budget"].astype(str))) if "budget" in det.columns else ["nominal"]
    return "; ".join(
        BUDGET_PHRASES[m][style.which] if m in BUDGET_PHRASES else style.escape(m) for m in modes
    )


def plural(count: int, noun: str) -> str:
    """`1 seed`, `2 seeds`."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def heading(text: str) -> str:
    """`text` with its first letter upper-cased (the rest kept, unlike str.capitalize)."""
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    """`text` as a sentence: first letter upper-cased, a full stop."""
    return f"{heading(text)}."


def with_note(caption: str, missing: bool) -> str:
    """`caption`, plus a sentence saying the data was not produced when `missing`."""
    return f"{caption} {sentence(NOT_RUN)}" if missing else caption
