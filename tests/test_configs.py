"""Every config under configs/ is valid layered on config.yaml and plans the full DAG."""

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
    assert {"score", "unlearn", "render_extensions", "loo"} <= set(jobs)
    text = proc.stdout + proc.stderr
    assert f"{layered['paper_dir']}/table_ext_detectors.tex" in text
    assert f"{layered['summary_dir']}/detection.csv" in text
    assert "paper_tables/table_5_1.tex" not in text  # MNIST's artifacts are left alone
