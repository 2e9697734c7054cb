"""Synthetic summaries of the paper's setting for the report tests: unsorted noise ratios, a
shuffled detector list with one detector beyond the paper, the paper's four unlearners."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

RATIOS = (0.3, 0.05, 0.01)  # deliberately unsorted
DETECTORS = ("if_train", "loss", "aum", "if_train_minus_z", "if_self")  # shuffled + extension
PAPER_UNLEARNERS = ("retrain", "influence", "ssse", "finetune")
NEEDS_TEX = pytest.mark.skipif(
    shutil.which("pdflatex") is None, reason="pdflatex not on PATH (install TeX Live to run)"
)


def detection_df(seeds: tuple[int, ...] = (0, 1), dataset: str = "mnist") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [
        dict(
            dataset=dataset,
            ratio=r,
            seed=s,
            detector=d,
            n=2000,
            m=round(2000 * r),
            roc_auc=rng.uniform(0.5, 1),
            accuracy=rng.uniform(0.5, 1),
            precision=rng.uniform(0, 1),
            recall=0.5,
            f1=0.5,
        )
        for r in RATIOS
        for s in seeds
        for d in DETECTORS
    ]
    return pd.DataFrame(rows)


def unlearning_df(seeds: tuple[int, ...] = (0, 1), unlearners=PAPER_UNLEARNERS) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for r in RATIOS:
        for s in seeds:
            rows.append(dict(unlearner="pretrained", target="none", ratio=r, seed=s))
            for m in unlearners:
                for t in ("detected", "mislabeled"):
                    rows.append(dict(unlearner=m, target=t, ratio=r, seed=s))
    df = pd.DataFrame(rows)
    df["dataset"] = "mnist"
    df["test_accuracy"] = rng.uniform(0.8, 1, len(df))
    df["seconds"] = 1.0
    return df


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def score_file(path: Path, detector: str, *, ratio: float = 0.05, n: int = 400) -> Path:
    rng = np.random.default_rng(2)
    flipped = np.zeros(n, bool)
    flipped[: int(n * ratio)] = True
    scores = rng.normal(size=n) + 3.0 * flipped
    m = round(n * ratio)
    flagged = np.zeros(n, bool)
    flagged[np.argsort(-scores)[:m]] = True
    np.savez(
        path, scores=scores, flipped=flipped, flagged=flagged, detector=detector, ratio=ratio, m=m
    )
    return path


def body_rows(tex: str) -> list[str]:
    """Data rows of a rendered table: the lines between \\midrule and \\bottomrule with '&'."""
    body = tex.split("\\midrule", 1)[1].split("\\bottomrule")[0]
    return [line.strip() for line in body.splitlines() if "&" in line]
