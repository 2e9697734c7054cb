"""Adapter for rule render_paper_vs_ours: mislabel.report.paper_vs_ours.render_paper_vs_ours."""

from pathlib import Path

from mislabel.joblog import job_log
from mislabel.report.paper_vs_ours import render_paper_vs_ours

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "render_paper_vs_ours", exit_when_done=True) as log:
    paths = render_paper_vs_ours(
        sm.input.detection,
        sm.input.unlearning,
        str(Path(sm.output.tex).parent),
        sm.output.csv,
        dataset=sm.params.dataset,
        metric=sm.params.metric,
        config_name=sm.params.config_name,
    )
    log(f"wrote {[str(p) for p in paths]}")
