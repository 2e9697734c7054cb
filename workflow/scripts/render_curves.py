"""Adapter for rule render_curves: mislabel.report.curves.render_curves."""

from pathlib import Path

from mislabel.joblog import job_log
from mislabel.report.curves import render_curves

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "render_curves", exit_when_done=True) as log:
    paths = render_curves(
        sm.input.detection,
        sm.input.unlearning,
        str(Path(sm.output[0]).parent),
        dataset=sm.params.dataset,
    )
    log(f"wrote {[str(p) for p in paths]}")
