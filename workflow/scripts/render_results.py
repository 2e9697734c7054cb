"""Adapter for rule render_results: mislabel.report.results_page.render_results_page."""

from mislabel.joblog import job_log
from mislabel.report.results_page import render_results_page

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "render_results", exit_when_done=True) as log:
    paths = render_results_page(
        sm.input.detection,
        sm.input.unlearning,
        dict(sm.params.config),
        sm.output.md,
        sm.output.beyond,
        sm.output.html,
        loo_csv=sm.input.loo,
        timing_csv=sm.input.timing,
        config_name=sm.params.config_name,
        metric=sm.params.metric,
        figures=list(sm.input.figures),
    )
    log(f"wrote {[str(p) for p in paths]}")
