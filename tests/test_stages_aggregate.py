"""Aggregating Snakemake benchmark files into the run's summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mislabel.stages.aggregate import aggregate_benchmarks, aggregate_timing


def test_benchmarks_of_other_datasets_are_left_out(tmp_path):
    root = tmp_path / "benchmarks"
    for rel in (
        "score/mnist/r0.1/s0/loss",
        "score/fashion_mnist/r0.1/s0/loss",
        "fetch_dataset/fashion_mnist",
        "aggregate/detection",
    ):
        path = root / f"{rel}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("s\th:m:s\tmax_rss\n1.5\t0:00:01\t100.0\n")
    assert aggregate_benchmarks(root, tmp_path / "all.csv") == 4
    assert aggregate_benchmarks(root, tmp_path / "mnist.csv", dataset="mnist") == 2
    df = pd.read_csv(tmp_path / "mnist.csv")
    assert sorted(zip(df.rule, df.job, strict=True)) == [
        ("aggregate", "detection"),
        ("score", "mnist/r0.1/s0/loss"),
    ]
    assert (df.seconds == 1.5).all()


def test_timing_rows_are_collected_and_compared_with_retraining(tmp_path):
    import json

    from mislabel.report.frames import with_timing

    run = {"dataset": "mnist", "ratio": 0.1, "seed": 0}
    score = [
        {
            **run,
            "stage": "score",
            "name": "loss",
            "seconds": 0.5,
            "compile_seconds": 1.0,
            "wall_seconds": 1.5,
        }
    ]
    unlearn = [
        {
            **run,
            "stage": "unlearn",
            "name": method,
            "target": target,
            "seconds": seconds,
            "compile_seconds": 0.0,
            "wall_seconds": seconds,
        }
        for method, target, seconds in [
            ("retrain", "mislabeled", 2.0),
            ("retrain", "detected", 4.0),
            ("influence", "mislabeled", 0.5),
            ("influence", "detected", 0.1),
        ]
    ]
    paths = []
    for k, rows in enumerate((score, unlearn)):
        paths.append(tmp_path / f"{k}.json")
        paths[-1].write_text(json.dumps(rows))
    assert aggregate_timing(paths, tmp_path / "timing.csv") == 5
    df = pd.read_csv(tmp_path / "timing.csv", keep_default_na=False, na_values=[""])
    ratios = {(r.name, r.target): r.time_vs_retrain for r in df.itertuples()}
    assert ratios[("influence", "mislabeled")] == 0.25
    assert ratios[("influence", "detected")] == 0.025
    assert ratios[("retrain", "detected")] == 1.0
    assert np.isnan(df[df.stage == "score"].time_vs_retrain).all()
    unl = pd.DataFrame(
        [
            {**run, "method": m, "target": t}
            for m in ("influence", "pretrained")
            for t in ("mislabeled",)
        ]
    )
    joined = with_timing(unl, tmp_path / "timing.csv")
    assert joined.time_vs_retrain.iloc[0] == 0.25 and np.isnan(joined.time_vs_retrain.iloc[1])
