"""File names of the rendered artifacts (no heavy imports: the workflow reads them while it
builds its DAG, so every `snakemake` call would otherwise import Matplotlib)."""

from __future__ import annotations

import re

# Paper figure number of each detector's score histogram (figures 5.1-5.4).
HISTOGRAM_FIGURES: dict[str, str] = {
    "loss": "fig_5_1",
    "if_self": "fig_5_2",
    "if_train": "fig_5_3",
    "if_train_minus_z": "fig_5_4",
}
NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")

EXTENSION_TABLES: tuple[str, ...] = (
    "table_ext_detectors",
    "table_ext_curvature",
    "table_ext_loo",
    "table_ext_budget",
    "table_ext_estimated",
    "table_ext_unlearners",
    "table_ext_unlearners_accuracy",
)
EXTENSION_FIGURES: tuple[str, ...] = (
    "fig_ext_auc_vs_ratio",
    "fig_ext_estimated_ratio",
    "fig_ext_unlearners_vs_ratio",
)
FIGURE_SUFFIXES: tuple[str, ...] = (".pdf", ".png", ".tex")
# The paper's Tables 5.1-5.3 beside ours (`mislabel.report.paper_vs_ours`), and its CSV.
PAPER_VS_OURS_FILES: tuple[str, ...] = ("table_paper_vs_ours.tex", "table_paper_vs_ours.md")
PAPER_VS_OURS_CSV = "paper_vs_ours.csv"
# Every file `render_extensions` writes, in its order (for the workflow's declared outputs).
EXTENSION_FILES: tuple[str, ...] = tuple(f"{stem}.tex" for stem in EXTENSION_TABLES) + tuple(
    f"{stem}{suffix}" for stem in EXTENSION_FIGURES for suffix in FIGURE_SUFFIXES
)


def histogram_stem(detector: str) -> str:
    """File stem of a detector's histogram: fig_5_1..fig_5_4, or fig_extra_<name>."""
    if not NAME_RE.match(detector):
        raise ValueError(f"detector name {detector!r} must match {NAME_RE.pattern}")
    return HISTOGRAM_FIGURES.get(detector, f"fig_extra_{detector}")
