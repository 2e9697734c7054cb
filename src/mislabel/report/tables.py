"""Entry point of rule render_tables: the paper's Tables 5.1-5.3 as LaTeX (booktabs).

The tables show only the paper's detectors, methods and forget sets; their rows and
captions are built in `mislabel.report.detection_tables` (5.1) and
`mislabel.report.unlearning_tables` (5.2, 5.3).
"""

from __future__ import annotations

import os
from pathlib import Path

from mislabel.files import atomic
from mislabel.report.captions import budget_phrase
from mislabel.report.detection_tables import table_5_1_tex
from mislabel.report.frames import (
    DETECTION_COLUMNS,
    UNLEARNING_COLUMNS,
    load_results,
    paper_detection,
)
from mislabel.report.labels import check_metric
from mislabel.report.unlearning_tables import table_5_2_tex, table_5_3_tex
from mislabel.workflow.artifacts import PAPER_TABLE_FILES


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
