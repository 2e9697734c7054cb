"""Adapter for the rules aggregate_*: mislabel.stages.aggregate.aggregate_summary."""

from mislabel.joblog import job_log
from mislabel.stages.aggregate import aggregate_summary

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], sm.rule, exit_when_done=True) as log:
    rows = aggregate_summary(sm.params.summary, list(sm.input), sm.output.csv)
    log(f"{len(sm.input)} tables, {rows} rows")
