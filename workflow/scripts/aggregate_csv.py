"""Adapter for rules aggregate_unlearning and aggregate_loo: `aggregate_csv` of
mislabel.stages.aggregate."""

from mislabel.joblog import job_log
from mislabel.stages.aggregate import aggregate_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], sm.rule, exit_when_done=True) as log:
    aggregate_csv(list(sm.input), sm.output.csv, keys=sm.params.sort_by)
    log(f"{len(sm.input)} files")
