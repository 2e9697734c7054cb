"""Adapter for rule render_selection: mislabel.report.selection.render_selection."""

from mislabel.joblog import job_log
from mislabel.report.selection import render_selection

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "render_selection", exit_when_done=True) as log:
    log(f"wrote {render_selection(sm.input.selection, sm.output.md)}")
