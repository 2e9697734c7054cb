"""Adapter for rule aggregate_detection: mislabel.stages.aggregate_json."""

from mislabel.joblog import job_log
from mislabel.stages import aggregate_json

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "aggregate_detection") as log:
    aggregate_json(list(sm.input), sm.output.csv, keys=sm.params.sort_by)
    log(f"{len(sm.input)} rows")
