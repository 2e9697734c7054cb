"""Adapter for rule aggregate_benchmarks: mislabel.stages.aggregate.aggregate_benchmarks."""

from mislabel.joblog import job_log
from mislabel.stages.aggregate import aggregate_benchmarks

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "aggregate_benchmarks", exit_when_done=True) as log:
    n = aggregate_benchmarks(sm.params.root, sm.output.csv, dataset=sm.params.dataset)
    log(f"{n} benchmark files")
