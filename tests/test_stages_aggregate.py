"""Aggregating Snakemake benchmark files into the run's summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mislabel.stages.aggregate import (
    aggregate_benchmarks,
    aggregate_summary,
    detection_table,
    timing_table,
)


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
            "name": unlearner,
            "target": target,
            "seconds": seconds,
            "compile_seconds": 0.0,
            "wall_seconds": seconds,
        }
        for unlearner, target, seconds in [
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
    assert timing_table(paths, tmp_path / "timing.csv") == 5
    df = pd.read_csv(tmp_path / "timing.csv", keep_default_na=False, na_values=[""])
    ratios = {(r.name, r.target): r.time_vs_retrain for r in df.itertuples()}
    assert ratios[("influence", "mislabeled")] == 0.25
    assert ratios[("influence", "detected")] == 0.025
    assert ratios[("retrain", "detected")] == 1.0
    assert np.isnan(df[df.stage == "score"].time_vs_retrain).all()
    unl = pd.DataFrame(
        [
            {**run, "unlearner": m, "target": t}
            for m in ("influence", "pretrained")
            for t in ("mislabeled",)
        ]
    )
    joined = with_timing(unl, tmp_path / "timing.csv")
    assert joined.time_vs_retrain.iloc[0] == 0.25 and np.isnan(joined.time_vs_retrain.iloc[1])


def _timing_rows(seed, seconds):
    run = {"dataset": "mnist", "ratio": 0.1, "seed": seed}
    times = {"seconds": seconds, "compile_seconds": 0.25, "wall_seconds": seconds + 0.25}
    return [
        {**run, "stage": "score", "name": "loss+if_self", **times},
        *(
            {**run, "stage": "unlearn", "name": m, "target": "mislabeled", **times}
            for m in ("retrain", "ssse")
        ),
    ]


def test_joined_timing_tables_equal_one_table_of_every_run(tmp_path):
    """The workflow writes one timing table per run and joins them; the join holds the
    same rows as one table made from every run's JSON at once."""
    import json

    jsons, tables = [], []
    for seed, seconds in ((1, 3.0), (0, 2.5)):
        jsons.append(tmp_path / f"s{seed}.json")
        jsons[-1].write_text(json.dumps(_timing_rows(seed, seconds)))
        tables.append(tmp_path / f"s{seed}.csv")
        assert timing_table([jsons[-1]], tables[-1]) == 3
    assert aggregate_summary("timing", tables, tmp_path / "joined.csv") == 6
    timing_table(jsons, tmp_path / "at_once.csv")
    assert (tmp_path / "joined.csv").read_text() == (tmp_path / "at_once.csv").read_text()
    df = pd.read_csv(tmp_path / "joined.csv", keep_default_na=False)
    assert list(df.seed) == [0, 0, 0, 1, 1, 1] and (df[df.stage == "score"].target == "").all()


def test_joined_detection_tables_equal_one_table_of_every_run(tmp_path):
    """Per-run detection tables (score jobs) joined: the same bytes as one table of every
    score file, and metrics recomputed here from the scores."""
    import json

    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    scores, infos, tables = [], [], []
    for seed in (1, 0):
        run_scores, run_infos = [], []
        for detector in ("loss", "aum"):
            flipped = rng.random(50) < 0.2
            s = rng.normal(size=50) + 2.0 * flipped
            flagged = s >= np.sort(s)[-int(flipped.sum())]
            run_scores.append(tmp_path / f"{seed}_{detector}.npz")
            np.savez(run_scores[-1], scores=s, flipped=flipped, flagged=flagged)
            run_infos.append(tmp_path / f"{seed}_{detector}.json")
            info = {"dataset": "mnist", "ratio": 0.2, "seed": seed, "detector": detector}
            run_infos[-1].write_text(json.dumps(info))
        tables.append(tmp_path / f"detection_{seed}.csv")
        assert detection_table(run_scores, run_infos, tables[-1]) == 2
        scores += run_scores
        infos += run_infos
    aggregate_summary("detection", tables, tmp_path / "joined.csv")
    detection_table(scores, infos, tmp_path / "at_once.csv")
    assert (tmp_path / "joined.csv").read_text() == (tmp_path / "at_once.csv").read_text()
    df = pd.read_csv(tmp_path / "joined.csv")
    assert list(zip(df.seed, df.detector, strict=True)) == [
        (0, "aum"),
        (0, "loss"),
        (1, "aum"),
        (1, "loss"),
    ]
    with np.load(scores[0]) as npz:  # seed 1, loss
        expected = roc_auc_score(npz["flipped"], npz["scores"])
    assert float(df.roc_auc.iloc[3]) == float(f"{expected:.6g}")
