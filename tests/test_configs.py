"""Every config under configs/ is valid layered on config.yaml and plans the full DAG: the
paper's, or, with real_errors set, the check on real label errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_workflow import REPO, copy_workflow, planned_jobs, snakemake
from tests.test_workflow_features import write_digits_features

CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_config_plans_every_stage_into_its_own_folders(config: Path, tmp_path):
    import yaml

    workdir = copy_workflow(tmp_path)
    layered = yaml.safe_load(config.read_text())
    if layered.get("dataset") == "features":  # its files, as docs/workflow.md writes them
        write_digits_features(workdir)
    proc = snakemake(workdir, "--dry-run", "--configfile", str(config))
    jobs = planned_jobs(proc)
    text = proc.stdout + proc.stderr
    if layered.get("real_errors"):
        seeds = len(layered.get("seeds", [0]))
        assert jobs["real_errors_score"] == jobs["real_errors_forget"] == seeds
        assert not {"score", "unlearn", "train"} & set(jobs)  # not the paper's DAG
        assert f"{layered['paper_dir']}/real_errors_forget.md" in text
        assert f"{layered['paper_dir']}/real_errors_aum.png" in text
        return
    assert {"score", "unlearn", "render_extensions", "loo"} <= set(jobs)
    assert f"{layered['paper_dir']}/table_ext_detectors.tex" in text
    assert f"{layered['summary_dir']}/detection.csv" in text
    assert "paper_tables/table_5_1.tex" not in text  # MNIST's artifacts are left alone
