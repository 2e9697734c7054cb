"""Rendering of the paper's tables and figures (LaTeX, Markdown, Matplotlib); no JAX here.

Modules by what they render: `detection_tables`, `unlearning_tables`, `curvature_tables`,
`histograms`, `curves`, `estimated_ratio`, `paper_vs_ours`, `markdown`, `paper`,
`rulegraph`; shared parts: `cells`, `labels`, `captions`, `frames`, `latex`,
`figure_style`. The workflow's rules call the entry points `tables.render_tables`,
`extensions.render_extensions`, `histograms.render_histograms` and `curves.render_curves`.
"""

from mislabel.report.cells import format_cell
from mislabel.report.curves import render_curves
from mislabel.report.extensions import render_extensions
from mislabel.report.histograms import render_histograms
from mislabel.report.markdown import table_markdown
from mislabel.report.paper import compile_paper, write_paper_tex
from mislabel.report.tables import render_tables

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
