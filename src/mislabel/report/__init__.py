"""Rendering of the paper's tables and figures (LaTeX, Markdown, Matplotlib); no JAX here."""

from mislabel.report.extensions import EXTENSION_FILES, render_extensions
from mislabel.report.figures import render_curves, render_histograms
from mislabel.report.markdown import table_markdown
from mislabel.report.paper import compile_paper, write_paper_tex
from mislabel.report.tables import format_cell, render_tables

__all__ = [
    "EXTENSION_FILES",
    "compile_paper",
    "format_cell",
    "render_curves",
    "render_extensions",
    "render_histograms",
    "render_tables",
    "table_markdown",
    "write_paper_tex",
]
