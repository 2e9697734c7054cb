"""Aggregation: the per-run files of every (ratio, seed) into the CSV summaries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mislabel.catalog import DATASETS
from mislabel.files.atomic import write_text
from mislabel.files.legacy import unlearner_columns
from mislabel.metrics import detection_metrics
from mislabel.stages.common import PathLike
from mislabel.workflow.artifacts import SUMMARIES

TIMING_KEYS = SUMMARIES["timing"].keys


def detection_table(
    scores_paths: Sequence[PathLike], info_paths: Sequence[PathLike], out_csv: PathLike
) -> int:
    """One row per score file: its run facts (JSON) plus detection metrics.

    The workflow writes one table per run (score job); rule `aggregate_detection` joins them.
    Returns the number of rows.
    """
    rows = []
    for scores_path, info_path in zip(scores_paths, info_paths, strict=True):
        row = json.loads(Path(info_path).read_text())
        with np.load(scores_path, allow_pickle=False) as npz:
            row.update(detection_metrics(npz["flipped"], npz["scores"], npz["flagged"]))
        rows.append(row)
    summary = SUMMARIES["detection"]
    _write_sorted(pd.DataFrame(rows), out_csv, summary.keys, summary.fmt)
    return len(rows)


def aggregate_summary(name: str, paths: Sequence[PathLike], out_csv: PathLike) -> int:
    """Join the runs' tables into the summary `name` of `SUMMARIES` (its sort keys and
    float format); returns its number of rows."""
    summary = SUMMARIES[name]
    return aggregate_csv(paths, out_csv, summary.keys, summary.fmt)


def aggregate_csv(
    paths: Sequence[PathLike], out_csv: PathLike, keys: Sequence[str], fmt: str = "%.6g"
) -> int:
    """Concatenate CSVs into one sorted by `keys`, floats written with `fmt`; returns its
    number of rows."""
    df = pd.concat([unlearner_columns(pd.read_csv(p)) for p in paths], ignore_index=True)
    _write_sorted(df, out_csv, keys, fmt)
    return len(df)


def _write_sorted(df: pd.DataFrame, out_csv: PathLike, keys: Sequence[str], fmt: str) -> None:
    df = df.sort_values(list(keys), kind="stable")
    write_text(out_csv, df.to_csv(index=False, float_format=fmt))


def aggregate_benchmarks(root: PathLike, out_csv: PathLike, dataset: str | None = None) -> int:
    """Collect Snakemake `benchmark:` files under `root/{rule}/...tsv` into one CSV.

    Columns: rule, job (the wildcard part of the path), seconds, max_rss_mb. With
    `dataset`, jobs of other datasets (`root/{rule}/{other}/...`) are left out, so a
    second config's summary does not mix in the first one's jobs.
    Returns the number of files read.
    """
    root = Path(root)
    others = set(DATASETS) - {dataset} if dataset is not None else set()
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        rel = path.relative_to(root).with_suffix("")
        if len(rel.parts) > 1 and rel.parts[1] in others:
            continue
        table = pd.read_csv(path, sep="\t")
        rss = pd.to_numeric(table["max_rss"], errors="coerce")
        rows.append(
            {
                "rule": rel.parts[0],
                "job": "/".join(rel.parts[1:]),
                "seconds": float(table["s"].mean()),
                "max_rss_mb": float(rss.max()) if rss.notna().any() else float("nan"),
            }
        )
    df = pd.DataFrame(rows, columns=["rule", "job", "seconds", "max_rss_mb"])
    write_text(out_csv, df.to_csv(index=False, float_format="%.4g"))
    return len(rows)


def timing_table(paths: Sequence[PathLike], out_csv: PathLike) -> int:
    """Collect the compute jobs' timing JSONs (`score_run`, `unlearn_run`) into one CSV.

    Columns: dataset, ratio, seed, stage (score | unlearn), name (a detector group or a
    unlearner), target (unlearn only), seconds (compilation excluded), compile_seconds,
    wall_seconds, and time_vs_retrain: an unlearning row's seconds over those of `retrain`
    on the same run and target. The workflow writes one table per run (evaluate job);
    rule `aggregate_timing` joins them. Returns the number of rows.
    """
    rows = [row for path in paths for row in json.loads(Path(path).read_text())]
    df = pd.DataFrame(rows, columns=[*TIMING_KEYS, "seconds", "compile_seconds", "wall_seconds"])
    df["target"] = df["target"].fillna("")
    retrain = df[(df.stage == "unlearn") & (df.name == "retrain")]
    retrain = retrain.set_index(["dataset", "ratio", "seed", "target"])["seconds"]
    keys = pd.MultiIndex.from_frame(df[["dataset", "ratio", "seed", "target"]])
    ratio = df["seconds"].to_numpy() / retrain.reindex(keys).to_numpy()
    df["time_vs_retrain"] = np.where(df.stage == "unlearn", ratio, np.nan)
    _write_sorted(df, out_csv, TIMING_KEYS, SUMMARIES["timing"].fmt)
    return len(df)
