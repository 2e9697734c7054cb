"""Entry points of the rules that write the tables: `render_tables` (the paper's Tables
5.1-5.3 as LaTeX, booktabs) and `render_extensions` (every table and figure beyond the paper).

The paper's Tables 5.1-5.3 show only its own detectors, unlearners and forget sets; their rows
and captions are built in `detection_tables` (5.1) and `unlearning_tables` (5.2, 5.3).
`render_extensions` writes the rest, built where their kind is built: more detectors and
the estimated budget (`detection_tables`), more unlearners compared with retraining and
Experiment 3 with the estimated budget (`unlearning_tables`), full-network curvature next to
the last layer and the leave-k-out validation (`curvature_tables`), and their figures (`curves`).

Every file in `EXTENSION_FILES` is always written, so the workflow can declare them all: where
a configuration did not produce the data, a table holds one "not run in this configuration"
row (and its caption says so) and a figure says so in place of its plot.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from mislabel.files import atomic
from mislabel.report.curvature_tables import curvature_table, loo_table
from mislabel.report.curves import auc_panel, estimated_ratio_panel, unlearners_panel
from mislabel.report.detection_tables import budget_table, detectors_table, table_5_1_tex
from mislabel.report.figure_style import save_figure
from mislabel.report.frames import (
    DETECTION_COLUMNS,
    UNLEARNING_COLUMNS,
    load_loo,
    load_results,
    paper_detection,
    with_numeric,
    with_timing,
)
from mislabel.report.labels import budget_phrase, check_metric, dataset_label
from mislabel.report.unlearning_tables import (
    estimated_table,
    table_5_2_tex,
    table_5_3_tex,
    unlearners_accuracy_table,
    unlearners_table,
)
from mislabel.workflow.artifacts import (
    EXTENSION_FIGURES,
    EXTENSION_FILES,
    EXTENSION_TABLES,
    PAPER_TABLE_FILES,
    table_files,
)


def render_figures(
    det: pd.DataFrame, unl: pd.DataFrame, out_dir: Path, *, dataset: str
) -> list[Path]:
    """The extension figures (pdf, png, tex each), in `EXTENSION_FIGURES` order."""
    name = dataset_label(dataset)
    panels = (auc_panel(det, name), estimated_ratio_panel(det, name), unlearners_panel(unl, name))
    written: list[Path] = []
    for stem, (fig, caption) in zip(EXTENSION_FIGURES, panels, strict=True):
        written += save_figure(fig, out_dir, stem, caption=caption)
    return written


def render_extensions(
    detection_csv: str | os.PathLike,
    unlearning_csv: str | os.PathLike,
    loo_csv: str | os.PathLike | None,
    out_dir: str | os.PathLike,
    *,
    dataset: str,
    timing_csv: str | os.PathLike | None = None,
) -> list[Path]:
    """Write every table and figure beyond the paper (`EXTENSION_FILES`) into `out_dir`.

    Args:
      detection_csv: one row per (dataset, ratio, seed, detector); optional columns
        `flipped_ratio` and `estimated_ratio` feed the budget table and figure.
      unlearning_csv: one row per (dataset, ratio, seed, unlearner, target); optional columns
        `accuracy_gap_to_retrain_clean`, `agreement_with_retrain_clean`,
        `param_l2_to_retrain_clean`, `time_vs_retrain`, `cg_iterations`, `cg_converged`.
      loo_csv: leave-k-out validation (dataset, scope, seed, n_removed, n_runs, pearson,
        spearman, optional slope), or None if it was not run.
      dataset: the dataset whose rows are shown.
      timing_csv: the timing summary (`mislabel.stages.aggregate.aggregate_summary`); its
        `time_vs_retrain` joins the unlearning rows (dataset, ratio, seed, unlearner, target).

    Returns:
      The written paths, in `EXTENSION_FILES` order. Outputs whose data this configuration
      did not produce are still written and say "not run in this configuration".
    """
    det = load_results(detection_csv, DETECTION_COLUMNS, dataset=dataset)
    det = with_numeric(det, ["flipped_ratio", "estimated_ratio"])
    unl = with_timing(load_results(unlearning_csv, UNLEARNING_COLUMNS, dataset=dataset), timing_csv)
    loo = load_loo(loo_csv, dataset=dataset)
    texts = (
        detectors_table(det, dataset),
        curvature_table(det, unl, dataset),
        loo_table(loo, dataset),
        budget_table(det, dataset),
        estimated_table(unl, dataset, budget_phrase(det)),
        unlearners_table(unl, dataset),
        unlearners_accuracy_table(unl, dataset),
    )
    out = Path(out_dir)
    written = [out / name for name in table_files(EXTENSION_TABLES)]
    for path, text in zip(written, texts, strict=True):
        atomic.write_text(path, text)
    written += render_figures(det, unl, out, dataset=dataset)
    if [p.name for p in written] != list(EXTENSION_FILES):
        raise RuntimeError(f"wrote {[p.name for p in written]}, expected {EXTENSION_FILES}")
    return written


def render_tables(
    detection_csv: str | os.PathLike,
    unlearning_csv: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    dataset: str = "mnist",
    metric: str = "accuracy",
) -> list[Path]:
    """Write `table_5_1.tex`, `table_5_2.tex` and `table_5_3.tex` into `out_dir`.

    `metric` is the test metric of Tables 5.2-5.3 (`mislabel.report.labels.TEST_METRICS`).

    Returns:
      The three written paths, in table order.
    """
    value = check_metric(metric)[0]
    det = load_results(detection_csv, DETECTION_COLUMNS, dataset=dataset)
    unl = load_results(unlearning_csv, (*UNLEARNING_COLUMNS, value), dataset=dataset)
    texts = (
        table_5_1_tex(det, dataset),
        table_5_2_tex(unl, dataset, metric),
        table_5_3_tex(unl, dataset, metric, budget_phrase(paper_detection(det))),
    )
    paths = [Path(out_dir) / name for name in PAPER_TABLE_FILES]
    for path, text in zip(paths, texts, strict=True):
        atomic.write_text(path, text)
    return paths
