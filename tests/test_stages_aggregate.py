"""Aggregating Snakemake benchmark files into the run's summary."""

from __future__ import annotations

import pandas as pd

from mislabel.stages import aggregate_benchmarks


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
