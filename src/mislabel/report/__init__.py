"""Rendering of the paper's tables and figures (LaTeX, Markdown, Matplotlib); no JAX here.

Modules by what they render: `detection_tables`, `unlearning_tables` (also Table 5.2 as
Markdown), `curvature_tables` (also the pseudo-inverse cut-off sweep), `selection`,
`histograms`, `curves` (also the estimated noise ratio), `rulegraph`, `paper_vs_ours`,
`results_page`, `flagged`, `paper`; shared parts: `cells` (values, rows and their Markdown
layout), `labels` (names and caption phrases), `frames`, `latex`, `figure_style`,
`include`. The workflow's rules call the entry points `render.render_tables`,
`render.render_extensions`, `histograms.render_histograms` and `curves.render_curves`.
"""

from mislabel.report.cells import format_cell
from mislabel.report.curves import render_curves
from mislabel.report.histograms import render_histograms
from mislabel.report.paper import compile_paper, write_paper_tex
from mislabel.report.render import render_extensions, render_tables
from mislabel.report.unlearning_tables import table_markdown

__all__ = [
    "compile_paper",
    "format_cell",
    "render_curves",
    "render_extensions",
    "render_histograms",
    "render_tables",
    "table_markdown",
    "write_paper_tex",
]
