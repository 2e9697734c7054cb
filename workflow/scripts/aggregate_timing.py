"""Adapter for rule aggregate_timing: mislabel.stages.aggregate.aggregate_timing."""

from mislabel.joblog import job_log
from mislabel.stages.aggregate import aggregate_timing

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "aggregate_timing", exit_when_done=True) as log:
    n = aggregate_timing(list(sm.input), sm.output.csv)
    log(f"{n} timing rows")
