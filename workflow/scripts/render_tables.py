"""Adapter for rule render_tables: mislabel.report.render.render_tables."""

from pathlib import Path

from mislabel.joblog import job_log
from mislabel.report.render import render_tables

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "render_tables", exit_when_done=True) as log:
    paths = render_tables(
        sm.input.detection,
        sm.input.unlearning,
        str(Path(sm.output[0]).parent),
        dataset=sm.params.dataset,
        metric=sm.params.metric,
    )
    log(f"wrote {[str(p) for p in paths]}")
