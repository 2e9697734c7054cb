"""The real Snakemake DAG, end to end, on a tiny config in a temporary directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "tiny_config.yaml"


def copy_workflow(dest: Path) -> Path:
    """A fresh checkout-like folder: Snakefile, workflow/ and config.yaml."""
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(REPO / name, dest / name)
    shutil.copytree(REPO / "workflow", dest / "workflow")
    shutil.copytree(REPO / "envs", dest / "envs")
    return dest


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", *args]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
    return proc


def planned_jobs(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Job counts per rule from a dry run's 'Job stats' table."""
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}
    counts, in_table = {}, False
    for line in text.splitlines():
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                if parts[0] == "total":
                    break
                counts[parts[0]] = int(parts[1])
    return counts


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("tiny"))
    snakemake(workdir, "--configfile", str(TINY))
    return workdir


@pytest.mark.slow
def test_summaries_have_every_row_and_column(tiny_run):
    det = pd.read_csv(tiny_run / "results/summary/detection.csv")
    assert {
        "dataset",
        "ratio",
        "seed",
        "detector",
        "n",
        "m",
        "roc_auc",
        "accuracy",
        "precision",
        "recall",
        "f1",
    } <= set(det.columns)
    tiny = yaml.safe_load(TINY.read_text())
    assert len(det) == 2 * len(tiny["detectors"])  # seeds x detectors (one ratio)
    recorded = yaml.safe_load((tiny_run / "results/summary/config.yaml").read_text())
    assert recorded["seeds"] == [0, 1] and recorded["train_per_class"] == 64
    assert set(det.detector) == set(tiny["detectors"])
    assert (det.n == 128).all()
    # the oracle budget: m = the number of flipped labels of each run, so precision = recall
    assert set(det.budget) == {"oracle"}
    np.testing.assert_array_equal(det.m, np.round(det.flipped_ratio * det.n).astype(int))
    np.testing.assert_allclose(det.precision, det.recall, atol=1e-6)
    for col in ("accuracy", "precision", "recall", "f1"):
        assert det[col].between(0, 1).all()
    estimating = det.detector.isin(["aum", "cleanlab"])
    assert det[estimating].m_estimated.between(0, 128).all()
    assert det[~estimating].m_estimated.isna().all()
    assert det.flipped_ratio.between(0, 0.5).all()
    assert set(det[det.detector == "if_self_full"].curvature) == {"full"}
    unl = pd.read_csv(tiny_run / "results/summary/unlearning.csv")
    assert {"dataset", "ratio", "seed", "unlearner", "target", "test_accuracy"} <= set(unl.columns)
    for df in (det, unl):  # clock values live in timing.csv only
        assert not {"seconds", "seconds_first", "time_vs_retrain"} & set(df.columns)
    unlearners, targets = tiny["unlearners"], tiny["targets"]
    assert len(unl) == 2 * (1 + len(unlearners) * len(targets))  # pretrained + the rest
    assert set(unl.unlearner) == {"pretrained", *unlearners}
    assert set(unl[unl.unlearner == "pretrained"].target) == {"none"}
    assert set(unl[unl.unlearner != "pretrained"].target) == set(targets)
    assert unl.test_accuracy.between(0, 1).all()
    reference = unl[(unl.unlearner == "retrain") & (unl.target == "mislabeled")]
    assert (reference.accuracy_gap_to_retrain_clean == 0).all()
    assert (reference.param_l2_to_retrain_clean == 0).all()
    assert (reference.agreement_with_retrain_clean == 1).all()
    assert (unl[unl.unlearner == "finetune"].param_l2_to_retrain_clean > 0).all()
    assert (unl[unl.unlearner == "influence_full"].cg_iterations > 0).any()
    loo = pd.read_csv(tiny_run / "results/summary/loo_validation.csv")
    assert len(loo) == 2 * 3 and set(loo.scope) == {"last_layer", "full", "full_lowrank"}
    assert loo.pearson.between(-1, 1).all()
    timing = pd.read_csv(tiny_run / "results/summary/timing.csv", keep_default_na=False)
    score_rows = timing[timing.stage == "score"]
    # per seed: loss, the three last-layer influence scores together, if_self_full, aum, cleanlab
    assert len(score_rows) == 2 * 5
    assert "if_self+if_train+if_train_minus_z" in set(score_rows.name)
    unlearn_rows = timing[timing.stage == "unlearn"]
    assert len(unlearn_rows) == 2 * len(unlearners) * len(targets)
    assert (timing.seconds >= 0).all() and (timing.compile_seconds >= 0).all()
    retrain = unlearn_rows[unlearn_rows.name == "retrain"]
    assert (retrain.time_vs_retrain.astype(float) == 1).all()
    selection = pd.read_csv(tiny_run / "results/summary/selection.csv")
    # per seed: every configured unlearner, NegGrad+ with each of its two momenta
    assert len(selection) == 2 * (len(unlearners) + 1)
    assert selection.validation_accuracy.between(0, 1).all()
    assert (selection.n_validation + selection.n_fit == 128).all()
    rtol = pd.read_csv(tiny_run / "results/summary/rtol.csv")
    assert len(rtol) == 2 * 2 * 2 * len(tiny["rtol_sweep"])  # seeds x updates x targets x rtols
    assert set(rtol.unlearner) == {"influence", "ssse"} and (rtol.step_norm_relative > 0).all()
    bench = pd.read_csv(tiny_run / "results/summary/benchmarks.csv")
    assert {"rule", "job", "seconds", "max_rss_mb"} <= set(bench.columns)
    assert {"train", "score", "unlearn", "evaluate"} <= set(bench.rule)


@pytest.mark.slow
def test_paper_artifacts_are_rendered(tiny_run):
    paper = tiny_run / "paper_tables"
    for i in (1, 2, 3):
        tex = (paper / f"table_5_{i}.tex").read_text()
        assert "\\toprule" in tex and "over 2 seeds" in tex and "$\\pm$" in tex
    for i in (1, 2, 3, 4):
        for ext in ("pdf", "png", "tex"):
            assert (paper / f"fig_5_{i}.{ext}").stat().st_size > 0
    assert (paper / "fig_1_1.pdf").read_bytes().startswith(b"%PDF")
    from mislabel.workflow.artifacts import EXTENSION_FILES

    for name in EXTENSION_FILES:
        assert (paper / name).stat().st_size > 0, name
    assert (
        "\\input{table_5_1}" in (paper / "paper.tex").read_text()
        or "table_5_1" in (paper / "paper.tex").read_text()
    )
    if shutil.which("pdflatex"):
        assert (paper / "paper.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_logs_show_progress_and_curvature(tiny_run):
    logs = tiny_run / "results/logs"
    train_log = (logs / "train/mnist/r0.3/s0.log").read_text()
    assert "epoch   1/3" in train_log and "epoch   3/3" in train_log
    score_log = (logs / "score/mnist/r0.3/s0.log").read_text()
    assert "scored if_self, if_train, if_train_minus_z in" in score_log
    assert "curvature last_layer" in score_log and "hessian_method pinv" in score_log
    assert "curvature full" in score_log and "hessian_rank 5," in score_log
    assert '"hessian_' not in score_log  # human-readable facts, not raw JSON
    cg_log = (logs / "unlearn/mnist/r0.3/s0/influence_full.log").read_text()
    assert "conjugate gradients took" in cg_log
    ssse_log = (logs / "unlearn/mnist/r0.3/s0/ssse.log").read_text()
    assert "rank" in ssse_log
    for target in ("mislabeled", "detected", "detected_estimated"):
        assert f"ssse on {target}: forgot" in ssse_log
    for stem in ("fig_accuracy_vs_ratio", "fig_auc_vs_ratio"):
        assert (tiny_run / "paper_tables" / f"{stem}.pdf").read_bytes().startswith(b"%PDF")


def test_wildcard_constraints_stop_path_tricks(tmp_path):
    workdir = copy_workflow(tmp_path)
    for target in (
        "results/mnist/r0.1/s0/../../../etc/noisy.npz",
        "results/mnist/rabc/s0/noisy.npz",
        "results/other/r0.1/s0/noisy.npz",
    ):
        proc = snakemake(workdir, "--dry-run", target, check=False)
        assert proc.returncode != 0, target
        assert "MissingRuleException" in proc.stdout + proc.stderr, target


@pytest.mark.slow
def test_scores_and_models_are_consistent(tiny_run):
    run = tiny_run / "results/mnist/r0.3/s1"
    with np.load(run / "scores/loss.npz") as npz:
        assert npz["scores"].shape == (128,) and int(npz["flagged"].sum()) == 38
    with np.load(run / "noisy.npz") as npz:
        assert npz["flipped"].sum() == (npz["y_train"] != npz["y_clean"]).sum() > 0


@pytest.mark.slow
def test_second_run_is_a_no_op(tiny_run):
    proc = snakemake(tiny_run, "--configfile", str(TINY), "--dry-run")
    assert planned_jobs(proc) == {}, proc.stdout[-2000:]


@pytest.mark.slow
def test_adding_a_seed_runs_only_the_new_seeds_jobs(tiny_run):
    proc = snakemake(tiny_run, "--configfile", str(TINY), "--config", "seeds=[0,1,2]", "--dry-run")
    jobs = planned_jobs(proc)
    tiny = yaml.safe_load(TINY.read_text())
    # 1 ratio x 1 new seed: noise, train, one score job (every detector), evaluate, the LOO
    # check; one unlearn job per unlearner (every target).
    assert jobs["inject_noise"] == 1 and jobs["train"] == 1 and jobs["evaluate"] == 1
    assert jobs["loo"] == 1 and jobs["score"] == 1
    assert jobs["select_defaults"] == 1 and jobs["sweep_rtol"] == 1
    assert jobs["unlearn"] == len(tiny["unlearners"])
    assert "fetch_dataset" not in jobs and "render_rulegraph" not in jobs
    outputs = [line for line in proc.stdout.splitlines() if line.strip().startswith("output:")]
    assert not [line for line in outputs if "/s0/" in line or "/s1/" in line]


def test_lint_is_clean():
    proc = snakemake(REPO, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


def test_dry_run_of_the_default_config_plans_the_paper_grid(tmp_path):
    workdir = copy_workflow(tmp_path)
    proc = snakemake(workdir, "--dry-run")
    jobs = planned_jobs(proc)
    # A job lists a few files, or one per run (the summaries): never every file of every
    # run, so the dry run stays readable.
    inputs = [
        line.split(":", 1)[1].split(", ")
        for line in (proc.stdout + proc.stderr).splitlines()
        if line.startswith("    input: ")
    ]
    assert len(inputs) > jobs["unlearn"] + jobs["evaluate"]
    assert max(len(files) for files in inputs) <= 25
    assert jobs["inject_noise"] == 7 and jobs["train"] == 7
    # One score job per ratio (9 detectors each); 7 ratios x 8 unlearners (3 targets each);
    # the LOO check for seed 0.
    assert jobs["score"] == 7 and jobs["unlearn"] == 56 and jobs["evaluate"] == 7
    assert jobs["loo"] == 1
    assert jobs["select_defaults"] == 7 and jobs["sweep_rtol"] == 7
    per_seed = ("inject_noise", "train", "score", "unlearn", "evaluate", "loo")
    assert sum(jobs[rule] for rule in per_seed) <= 100
    assert not (workdir / "results").exists()


@pytest.mark.slow
def test_self_contained_report_is_built(tiny_run):
    snakemake(tiny_run, "--configfile", str(TINY), "--report", "report.html")
    html = (tiny_run / "report.html").read_text(errors="replace")
    assert len(html) > 100_000
    for name in (
        "results.html",
        "detection.csv",
        "unlearning.csv",
        "loo_validation.csv",
        "fig_5_1.png",
        "fig_accuracy_vs_ratio.png",
        "config.yaml",
        "benchmarks.csv",
    ):
        assert name in html


@pytest.mark.slow
def test_slurm_profile_plans_the_same_jobs_as_the_local_one(tiny_run):
    repo_profiles = REPO / "profiles"
    local = snakemake(
        tiny_run,
        "--configfile",
        str(TINY),
        "--dry-run",
        "--forceall",
        "--profile",
        str(repo_profiles / "local"),
    )
    slurm = snakemake(
        tiny_run,
        "--configfile",
        str(TINY),
        "--dry-run",
        "--forceall",
        "--profile",
        str(repo_profiles / "slurm"),
    )
    assert planned_jobs(local) == planned_jobs(slurm) != {}


SCIENCE_SUMMARIES = (
    "detection",
    "unlearning",
    "loo_validation",
    "paper_vs_ours",
    "selection",
    "rtol",
)


def science_summaries(workdir: Path) -> dict[str, bytes]:
    """The science summaries, byte for byte (clock values live in timing.csv only)."""
    return {
        name: (workdir / f"results/summary/{name}.csv").read_bytes() for name in SCIENCE_SUMMARIES
    }


@pytest.mark.slow
def test_summaries_equal_the_reference_run(tiny_run):
    """tests/data/tiny_summaries holds the tiny config's science summaries from a reference
    run. They are only replaced on purpose, when the science changes (last: the oracle
    budget and converged full-network eigenpairs; the selection of the repair's defaults and
    the rtol sweep were added), by copying a tiny run's results/summary/{name}.csv for each
    of SCIENCE_SUMMARIES; any other change of a number (regrouping jobs, refactoring, new
    dependencies) fails here."""
    for name in SCIENCE_SUMMARIES:
        want = pd.read_csv(REPO / "tests/data/tiny_summaries" / f"{name}.csv")
        got = pd.read_csv(tiny_run / f"results/summary/{name}.csv")
        assert sorted(got.columns) == sorted(want.columns), name
        pd.testing.assert_frame_equal(
            got[list(want.columns)], want, check_exact=False, rtol=1e-6, atol=1e-9
        )


@pytest.mark.slow
def test_rendered_tables_equal_the_reference_run(tiny_run):
    """tests/data/tiny_tables holds the tiny config's rendered tables, figure captions and
    paper.tex from the same reference run; a refactoring must render them to the byte. Left
    out: table_ext_unlearners.tex (it shows run times) and the side-by-side table (its
    caption names the config file's path, which depends on the checkout's folder)."""
    reference = REPO / "tests/data/tiny_tables"
    names = sorted(p.name for p in reference.iterdir())
    assert len(names) == 24
    differ = [
        n
        for n in names
        if (tiny_run / "paper_tables" / n).read_bytes() != (reference / n).read_bytes()
    ]
    assert differ == []


@pytest.mark.slow
def test_fresh_run_with_one_core_gives_identical_summaries(tiny_run, tmp_path):
    """Two fresh runs, --cores 2 (the fixture) and --cores 1, agree to the byte."""
    other = copy_workflow(tmp_path)
    cmd = [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", str(TINY)]
    proc = subprocess.run(cmd, cwd=other, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert science_summaries(other) == science_summaries(tiny_run)


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_result(tiny_run, tmp_path):
    """Kill the workflow mid-run, rerun it: the summaries equal an uninterrupted run's."""
    import signal
    import time

    work = copy_workflow(tmp_path)
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", str(TINY)]
    proc = subprocess.Popen(
        cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    unlearned = work / "results/mnist/r0.3/s0/unlearn"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if unlearned.is_dir() and len(list(unlearned.glob("*/*.json"))) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)  # no clean-up at all: the harshest interruption
    proc.wait()
    assert not (work / "results/summary/unlearning.csv").exists()
    leftovers = [p for p in (work / "results").rglob("*.tmp")]
    snakemake(work, "--configfile", str(TINY), "--unlock")  # a killed run leaves its lock
    resumed = snakemake(work, "--configfile", str(TINY), "--rerun-incomplete")
    assert "Nothing to be done" not in resumed.stdout + resumed.stderr
    assert science_summaries(work) == science_summaries(tiny_run)
    # Temporary files of killed jobs may stay behind, but never under a final name.
    assert all(p.name.startswith(".") for p in leftovers)
