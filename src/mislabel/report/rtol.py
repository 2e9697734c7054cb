"""How the paper's closed-form updates move with the pseudo-inverse's cut-off rtol
(`mislabel.stages.rtol`), as a Markdown table for docs/paper.md: test accuracy per noise
ratio and the step's size relative to the last layer's kernel, per rtol."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from mislabel.files.atomic import write_text
from mislabel.registry import TARGETS
from mislabel.report.cells import MARKDOWN, Row, format_cell
from mislabel.report.labels import TARGET_LABELS, UNLEARNER_LABELS, label_of, ratio_label
from mislabel.report.markdown import grid_markdown


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
