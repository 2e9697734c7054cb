"""Adapter for rule render_rtol: mislabel.report.curvature_tables.render_rtol."""

from mislabel.joblog import job_log
from mislabel.report.curvature_tables import render_rtol

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "render_rtol", exit_when_done=True) as log:
    log(f"wrote {render_rtol(sm.input.rtol, sm.output.md)}")
