"""File names of every rendered artifact, the one place that knows them.

No heavy imports: the workflow reads them while it builds its DAG, so every `snakemake` call
would otherwise import Matplotlib. Stems carry no suffix; a figure is written as
`<stem>.pdf`, `<stem>.png` and `<stem>.tex` (`FIGURE_SUFFIXES`), a table as `<stem>.tex`.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Summary(NamedTuple):
    """One summary of a run: its file in `summary_dir`, the columns its rows are sorted
    by (and keyed on), and how its floats are written."""

    file: str
    keys: tuple[str, ...] = ()
    fmt: str = "%.6g"


_RUN_KEYS = ("dataset", "ratio", "seed")
# Every summary of a run, by name (`mislabel.stages.aggregate.aggregate_summary` joins the
# runs' tables; the workflow's rules name their files through this table only).
SUMMARIES: dict[str, Summary] = {
    "detection": Summary("detection.csv", (*_RUN_KEYS, "detector")),
    "unlearning": Summary("unlearning.csv", (*_RUN_KEYS, "unlearner", "target")),
    "loo": Summary("loo_validation.csv", (*_RUN_KEYS, "scope")),
    "selection": Summary("selection.csv", (*_RUN_KEYS, "unlearner", "neggrad_momentum")),
    "rtol": Summary("rtol.csv", (*_RUN_KEYS, "unlearner", "target", "rtol")),
    "timing": Summary("timing.csv", (*_RUN_KEYS, "stage", "name", "target"), "%.4g"),
    "benchmarks": Summary("benchmarks.csv"),
    "config": Summary("config.yaml"),
}

# Tables 5.1-5.3 of the paper (`mislabel.report.render`).
PAPER_TABLES: tuple[str, ...] = ("table_5_1", "table_5_2", "table_5_3")
# Paper figure number of each detector's score histogram (figures 5.1-5.4); any other
# detector's histogram is EXTRA_HISTOGRAM_PREFIX + its name (`histogram_stem`).
HISTOGRAM_FIGURES: dict[str, str] = {
    "loss": "fig_5_1",
    "if_self": "fig_5_2",
    "if_train": "fig_5_3",
    "if_train_minus_z": "fig_5_4",
}
EXTRA_HISTOGRAM_PREFIX = "fig_extra_"
NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
# The paper's results drawn as curves against the noise ratio (`mislabel.report.curves`).
CURVES: tuple[str, ...] = ("fig_accuracy_vs_ratio", "fig_auc_vs_ratio")
# Figure 1.1 (the workflow's rule graph, `mislabel.report.rulegraph`) and the paper itself.
RULEGRAPH = "fig_1_1.pdf"
RULEGRAPH_PNG = "fig_1_1.png"  # the same, for the Snakemake report and the results page
PAPER_TEX = "paper.tex"
PAPER_PDF = "paper.pdf"
# The results pages: Tables 5.1-5.3 in Markdown (included in the README), the tables beyond
# the paper in Markdown (in docs/paper.md), and both as HTML (in the report).
RESULTS_MD = "results.md"
RESULTS_BEYOND_MD = "results_beyond.md"
RESULTS_HTML = "results.html"
# The table that chooses the repair's default unlearner on validation splits
# (`mislabel.report.selection`); the docs include it.
DEFAULT_SELECTION_MD = "table_ext_default_selection.md"
# The paper's closed-form updates at every pseudo-inverse cut-off
# (`mislabel.report.curvature_tables`).
RTOL_MD = "table_ext_rtol.md"

# Beyond the paper (`mislabel.report.render`), in the order they are written.
EXTENSION_TABLE_PREFIX = "table_ext_"
EXTENSION_FIGURE_PREFIX = "fig_ext_"
EXTENSION_TABLES: tuple[str, ...] = tuple(
    EXTENSION_TABLE_PREFIX + name
    for name in (
        "detectors",
        "curvature",
        "loo",
        "budget",
        "estimated",
        "unlearners",
        "unlearners_accuracy",
    )
)
EXTENSION_FIGURES: tuple[str, ...] = tuple(
    EXTENSION_FIGURE_PREFIX + name
    for name in ("auc_vs_ratio", "estimated_ratio", "unlearners_vs_ratio")
)
FIGURE_SUFFIXES: tuple[str, ...] = (".pdf", ".png", ".tex")

# The paper's Tables 5.1-5.3 beside ours (`mislabel.report.paper_vs_ours`), and its CSV.
PAPER_VS_OURS = "table_paper_vs_ours"
PAPER_VS_OURS_FILES: tuple[str, ...] = (f"{PAPER_VS_OURS}.tex", f"{PAPER_VS_OURS}.md")
PAPER_VS_OURS_CSV = "paper_vs_ours.csv"


def table_files(stems: tuple[str, ...] | list[str]) -> list[str]:
    """The file of each table stem: `<stem>.tex`."""
    return [f"{stem}.tex" for stem in stems]


def figure_files(stems: tuple[str, ...] | list[str]) -> list[str]:
    """The files of each figure stem, in `FIGURE_SUFFIXES` order per stem."""
    return [f"{stem}{suffix}" for stem in stems for suffix in FIGURE_SUFFIXES]


PAPER_TABLE_FILES: tuple[str, ...] = tuple(table_files(PAPER_TABLES))
# Every file `render_extensions` writes, in its order (for the workflow's declared outputs).
EXTENSION_FILES: tuple[str, ...] = tuple(
    table_files(EXTENSION_TABLES) + figure_files(EXTENSION_FIGURES)
)


def histogram_stem(detector: str) -> str:
    """File stem of a detector's histogram: fig_5_1..fig_5_4, or fig_extra_<name>."""
    if not NAME_RE.match(detector):
        raise ValueError(f"detector name {detector!r} must match {NAME_RE.pattern}")
    return HISTOGRAM_FIGURES.get(detector, f"{EXTRA_HISTOGRAM_PREFIX}{detector}")


# The check on real label errors (`mislabel.stages.real_errors`, docs/real_errors.md): the
# hits table (`<stem>.csv`, `<stem>.md`) and each detector's top images (`real_errors_figure`),
# then the table of forgetting (`REAL_ERRORS_FORGET_STEM`: `.csv`, `.md`).
REAL_ERRORS_STEM = "real_errors"
REAL_ERRORS_FORGET_STEM = "real_errors_forget"
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".md")


def real_errors_figure(stem: str, detector: str) -> str:
    """The figure of a detector's top images: ``<stem>_<detector>.png``, its ``:`` (of
    ``find_issues:<name>``) written as ``_``."""
    name = f"{stem}_{detector.replace(':', '_')}"
    if not NAME_RE.match(name):
        raise ValueError(f"detector name {detector!r} makes the file name {name!r}")
    return f"{name}.png"


def real_errors_hits_files(detectors: tuple[str, ...] | list[str]) -> list[str]:
    """The files of the hits table and of each detector's figure."""
    return [REAL_ERRORS_STEM + s for s in TABLE_SUFFIXES] + [
        real_errors_figure(REAL_ERRORS_STEM, d) for d in detectors
    ]


REAL_ERRORS_FORGET_FILES: tuple[str, ...] = tuple(
    REAL_ERRORS_FORGET_STEM + s for s in TABLE_SUFFIXES
)
