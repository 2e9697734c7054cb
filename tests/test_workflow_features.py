"""The whole DAG on your own features: `dataset: features`, 10 classes, float32 throughout.

The features are scikit-learn's digits, written by the snippet of docs/workflow.md, and
the config is configs/features_digits.yaml, shrunk by tests/tiny_config.yaml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.test_workflow import REPO, TINY, copy_workflow, planned_jobs, snakemake

CONFIG = REPO / "configs" / "features_digits.yaml"
SHRINK = (
    "train_per_class=20",
    "noise_ratios=[0.2]",
    "histogram_ratio=0.2",
    "seeds=[0]",
    "epochs=30",
    "finetune_epochs=10",
    "lr=0.05",
)


def features_snippet() -> str:
    """The Python snippet of docs/workflow.md that writes the digits features."""
    text = (REPO / "docs" / "workflow.md").read_text()
    start = text.index("```python\n", text.index("### Your own features")) + len("```python\n")
    return text[start : text.index("\n```", start)]


def write_digits_features(workdir: Path) -> None:
    """Run the docs' snippet in `workdir`, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-c", features_snippet()], cwd=workdir, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def run_args(*extra: str) -> list[str]:
    return ["--configfile", str(TINY), str(CONFIG), "--config", *SHRINK, *extra]


@pytest.fixture(scope="module")
def features_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("features"))
    write_digits_features(workdir)
    snakemake(workdir, *run_args())
    return workdir


@pytest.mark.slow
def test_ten_classes_of_own_features_run_through_every_stage(features_run):
    layered = yaml.safe_load(CONFIG.read_text())
    tiny = yaml.safe_load(TINY.read_text())
    summary = features_run / layered["summary_dir"]
    det = pd.read_csv(summary / "detection.csv")
    assert set(det.dataset) == {"features"} and (det.n == 200).all()
    assert set(det.detector) == set(tiny["detectors"])
    assert det.roc_auc.between(0, 1).all()
    assert det.set_index("detector").roc_auc["loss"] > 0.8  # far better than chance
    unl = pd.read_csv(summary / "unlearning.csv")
    assert set(unl.unlearner) == {"pretrained", *tiny["unlearners"]}
    assert len(unl) == 1 + len(tiny["unlearners"]) * len(tiny["targets"])
    accuracy = unl.set_index(["unlearner", "target"]).test_accuracy
    assert accuracy["pretrained", "none"] > 0.7  # 10 classes: chance is 0.1
    assert accuracy["retrain", "mislabeled"] > accuracy["pretrained", "none"]
    assert len(pd.read_csv(summary / "loo_validation.csv")) == 3
    paper = features_run / layered["paper_dir"]
    for name in ("table_5_1.tex", "table_5_3.tex", "fig_5_1.png", "table_ext_unlearners.tex"):
        assert (paper / name).stat().st_size > 0, name
    assert "own features" in (paper / "table_5_1.tex").read_text()
    assert not (paper / "table_paper_vs_ours.tex").exists()  # the paper ran MNIST 0 vs 1


@pytest.mark.slow
def test_own_features_stay_float32_bit_for_bit(features_run):
    x_all = np.load(features_run / "data/digits/train_features.npy")
    y_all = np.load(features_run / "data/digits/train_labels.npy")
    with np.load(features_run / "results/features/r0.2/s0/noisy.npz") as npz:
        x, y_clean, classes = npz["x_train"], npz["y_clean"], npz["classes"]
        x_test = npz["x_test"]
        assert npz["flipped"].any()
    assert x.dtype == np.float32 and x.shape == (200, 64) and x_test.shape[0] > 500
    np.testing.assert_array_equal(classes, np.arange(10))
    # subset "first": the first 20 training samples of each class, in file order
    picked = np.sort(np.concatenate([np.flatnonzero(y_all == c)[:20] for c in range(10)]))
    assert x.tobytes() == x_all[picked].tobytes()
    np.testing.assert_array_equal(y_clean, y_all[picked])


@pytest.mark.slow
def test_changed_features_rerun_the_dag(features_run):
    path = features_run / "data/digits/train_features.npy"
    np.save(path, np.load(path) * np.float32(2))
    jobs = planned_jobs(snakemake(features_run, *run_args("--dry-run")))
    assert jobs["fetch_dataset"] == 1 and jobs["train"] == 1 and jobs["score"] == 1


def test_missing_features_are_refused_before_any_job(tmp_path):
    workdir = copy_workflow(tmp_path)
    proc = snakemake(workdir, *run_args("--dry-run"), check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "dataset: features needs features.{train_features" in text
    assert "data/digits/train_features.npy" in text and "Traceback" not in text
