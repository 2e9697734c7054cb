"""Adapter for rule render_rulegraph: mislabel.report.rulegraph.render_rulegraph."""

from mislabel.joblog import job_log
from mislabel.report.rulegraph import render_rulegraph

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "render_rulegraph", exit_when_done=True) as log:
    render_rulegraph(sm.params.snakefile, sm.output.pdf, log=log, out_png=sm.output.png)
