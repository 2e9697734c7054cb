"""Adapter for rule render_extensions: mislabel.report.render.render_extensions."""

from pathlib import Path

from mislabel.joblog import job_log
from mislabel.report.render import render_extensions

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "render_extensions", exit_when_done=True) as log:
    paths = render_extensions(
        sm.input.detection,
        sm.input.unlearning,
        sm.input.loo,
        str(Path(sm.output[0]).parent),
        dataset=sm.params.dataset,
        timing_csv=sm.input.timing,
    )
    log(f"wrote {[str(p) for p in paths]}")
