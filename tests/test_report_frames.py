"""Tests for mislabel.report.frames: reading the summaries and selecting from them."""

from __future__ import annotations

import pandas as pd

from mislabel.report.frames import (
    LOO_REQUIRED_COLUMNS,
    numeric,
    paper_detection,
    paper_unlearning,
)


def test_the_loo_table_reads_only_columns_the_validation_writes() -> None:
    from mislabel.stages.loo import LOO_COLUMNS

    assert set(LOO_REQUIRED_COLUMNS) <= set(LOO_COLUMNS)


def test_numeric_reads_booleans_and_absent_columns() -> None:
    df = pd.DataFrame({"flag": [True, False, None], "x": [1, 2, 3]})
    assert numeric(df, "flag").tolist()[:2] == [1.0, 0.0] and numeric(df, "flag").isna()[2]
    assert numeric(df, "missing").isna().all()


def test_paper_selections() -> None:
    det = pd.DataFrame({"detector": ["loss", "aum", "if_self_full", "if_train"]})
    assert paper_detection(det)["detector"].tolist() == ["loss", "if_train"]
    unl = pd.DataFrame(
        {
            "unlearner": ["pretrained", "ssse", "ssse_full", "retrain", "retrain"],
            "target": ["none", "mislabeled", "mislabeled", "detected_estimated", "detected"],
        }
    )
    kept = paper_unlearning(unl)
    assert list(zip(kept["unlearner"], kept["target"], strict=True)) == [
        ("pretrained", "none"),
        ("ssse", "mislabeled"),
        ("retrain", "detected"),
    ]
