"""The check on real label errors through Snakemake, end to end, on your own features.

scikit-learn's digits as docs/workflow.md writes them (configs/features_digits.yaml), with
20 labels of the test split flipped and written down as its known errors, as MNIST's test
set has its table: the same rules as configs/mnist_real_errors.yaml, shrunk.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import yaml

from mislabel.data.label_errors import COLUMNS
from mislabel.stages.real_errors import all_detectors
from mislabel.workflow import artifacts
from tests.test_workflow import REPO, copy_workflow, planned_jobs, snakemake
from tests.test_workflow_features import write_digits_features

FEATURES = REPO / "configs" / "features_digits.yaml"
LABEL_ERRORS = "data/digits/label_errors.csv"
SHRUNK = {
    "hidden": [32],
    "seeds": [0, 1],
    "lr": 0.05,
    "epochs": 20,
    "finetune_epochs": 5,
    "cv_folds": 2,
    "unlearners": ["retrain", "finetune"],
    "real_errors": {
        "top_k": [20, 40],
        "forget_detector": "loss",
        "forget_k": [10, 20],
        "label_errors": LABEL_ERRORS,
    },
    "paper_dir": "results/real_errors_paper",
}


def plant_known_errors(workdir: Path, n_errors: int = 20) -> None:
    """Flip `n_errors` labels of the test split and write them, with as many untouched
    samples, as the table of known errors (crowd votes: 0 of 5 for a flipped label)."""
    path = workdir / "data/digits/test_labels.npy"
    y = np.load(path)
    rng = np.random.default_rng(0)
    picked = rng.choice(len(y), 2 * n_errors, replace=False)
    flipped, clean = picked[:n_errors], picked[n_errors:]
    true = y[flipped].copy()
    y[flipped] = (y[flipped] + 1) % 10
    np.save(path, y)
    with open(workdir / LABEL_ERRORS, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for i, t in zip(flipped, true, strict=True):
            writer.writerow([i, y[i], t, 0, 5, 0])
        for i in clean:
            writer.writerow([i, y[i], (y[i] + 1) % 10, 5, 0, 0])


@pytest.fixture(scope="module")
def real_errors_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("real_errors"))
    write_digits_features(workdir)
    plant_known_errors(workdir)
    shrunk = workdir / "real_errors_digits.yaml"
    shrunk.write_text(yaml.safe_dump(SHRUNK))
    args = ("--configfile", str(FEATURES), str(shrunk))
    jobs = planned_jobs(snakemake(workdir, "--dry-run", *args))
    snakemake(workdir, *args)
    return workdir, jobs


@pytest.mark.slow
def test_the_real_errors_rules_run_per_seed_then_render(real_errors_run):
    workdir, jobs = real_errors_run
    assert jobs == {
        "fetch_dataset": 1,
        "real_errors_score": 2,
        "real_errors_forget": 2,
        "real_errors_render_hits": 1,
        "real_errors_render_forget": 1,
        "all": 1,
    }
    paper = workdir / SHRUNK["paper_dir"]
    names = artifacts.real_errors_hits_files(all_detectors()) + list(
        artifacts.REAL_ERRORS_FORGET_FILES
    )
    assert sorted(p.name for p in paper.iterdir()) == sorted(names)
    assert all((paper / name).stat().st_size > 0 for name in names)


@pytest.mark.slow
def test_the_hits_table_counts_the_planted_errors_of_every_detector(real_errors_run):
    import pandas as pd

    workdir, _ = real_errors_run
    hits = pd.read_csv(workdir / SHRUNK["paper_dir"] / "real_errors.csv")
    assert list(dict.fromkeys(hits.detector)) == list(all_detectors())
    assert set(hits.top_k) == {20, 40} and (hits.seeds == 2).all()
    assert (hits.n_verified == 20).all() and (hits.n_candidates == 40).all()
    loss = hits[(hits.detector == "loss") & (hits.top_k == 40)].iloc[0]
    assert loss.verified_mean >= 15  # 20 flipped among 540: the loss ranks them high
    text = (workdir / SHRUNK["paper_dir"] / "real_errors.md").read_text()
    assert "verified in top 40 (of 20)" in text and "seeds 0, 1" in text


@pytest.mark.slow
def test_forgetting_is_evaluated_on_the_training_split_with_its_random_control(real_errors_run):
    import pandas as pd

    workdir, _ = real_errors_run
    per_seed = pd.read_csv(workdir / "results/real_errors/features/s0/forget.csv")
    assert len(per_seed) == 1 + 2 * 2 * 2  # before, then unlearners x k x (top, random)
    assert set(per_seed.n_train) == {540} and set(per_seed.n_eval) == {1257}
    assert per_seed.accuracy.between(0.5, 1).all()  # 10 classes: chance is 0.1
    summary = pd.read_csv(workdir / SHRUNK["paper_dir"] / "real_errors_forget.csv")
    assert sorted(zip(summary.unlearner, summary.k, strict=True)) == [
        ("finetune", 10),
        ("finetune", 20),
        ("retrain", 10),
        ("retrain", 20),
    ]
    assert (summary.seeds == 2).all() and set(summary.detector) == {"loss"}
    np.testing.assert_allclose(
        summary.top_minus_random_mean, summary.top_mean - summary.random_mean, atol=1e-5
    )
    text = (workdir / SHRUNK["paper_dir"] / "real_errors_forget.md").read_text()
    assert "the k that loss ranks highest" in text and "1,257 samples" in text
