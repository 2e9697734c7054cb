"""Adapter for rule aggregate_detection: mislabel.stages.aggregate.aggregate_detection."""

from mislabel.joblog import job_log
from mislabel.stages.aggregate import aggregate_detection

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "aggregate_detection", exit_when_done=True) as log:
    aggregate_detection(list(sm.input), sm.output.csv)
    log(f"{len(sm.input)} runs")
