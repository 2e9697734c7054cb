"""The run layout (`mislabel.workflow.paths`): the patterns the rules use, written out in full."""

from __future__ import annotations

from mislabel.workflow import paths


def test_run_files_follow_the_documented_layout():
    run = "{dataset}/r{ratio}/s{seed}"
    assert paths.run_file(paths.NOISY) == f"{run}/noisy.npz"
    assert paths.run_file(paths.MODEL) == f"{run}/model.msgpack"
    assert paths.run_file(paths.HISTORY) == f"{run}/train_history.npz"
    assert paths.run_file(paths.score_file("npz")) == f"{run}/scores/{{detector}}.npz"
    assert paths.run_file(paths.DETECTION) == f"{run}/detection.csv"
    assert paths.run_file(paths.unlearned_dir()) == f"{run}/unlearn/{{unlearner}}"
    assert paths.run_file(paths.SCORE_TIMING) == f"{run}/timing/score.json"
    assert paths.run_file(paths.TIMING) == f"{run}/timing.csv"
    assert paths.log_file("train") == f"logs/train/{run}.log"
    assert paths.log_file("unlearn", "{unlearner}") == f"logs/unlearn/{run}/{{unlearner}}.log"
    assert (
        paths.benchmark_file("unlearn", "{unlearner}")
        == f"benchmarks/unlearn/{run}/{{unlearner}}.tsv"
    )


def test_run_dir_fills_the_pattern_with_the_shortest_ratio():
    assert paths.fmt_ratio(0.05) == "0.05" and paths.fmt_ratio(1e-5) == "1e-05"
    assert paths.run_dir("mnist", 0.1, 2) == "results/mnist/r0.1/s2"
    assert paths.run_dir("mnist", "0.3", 0, "out/") == "out/mnist/r0.3/s0"


def test_real_errors_files_follow_the_documented_layout():
    run = "real_errors/{dataset}/s{seed}"
    assert paths.real_errors_file(paths.REAL_ERRORS_SCORES) == f"{run}/scores.npz"
    assert paths.real_errors_file(paths.REAL_ERRORS_MODEL) == f"{run}/model.msgpack"
    assert paths.real_errors_file(paths.REAL_ERRORS_FORGET) == f"{run}/forget.csv"
    log = paths.log_file("real_errors_score", paths.REAL_ERRORS_JOB, per_run=False)
    assert log == "logs/real_errors_score/{dataset}/s{seed}.log"
