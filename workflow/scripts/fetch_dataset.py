"""Adapter for rule fetch_dataset: mislabel.stages.data.fetch_dataset."""

from pathlib import Path

from mislabel.joblog import job_log
from mislabel.stages.data import fetch_dataset

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], f"fetch_dataset {sm.wildcards.dataset}", exit_when_done=True) as log:
    path = fetch_dataset(
        Path(sm.output.data).parent,
        dataset=sm.wildcards.dataset,
        source_dir=sm.params.source_dir,
        features=dict(sm.input.items()),
    )
    log(f"stored {path} (built-in datasets: SHA-256 verified; own features: checked)")
