"""Adapter for rule real_errors_render_hits: mislabel.stages.real_errors.render_hits."""

from pathlib import Path

from mislabel.joblog import job_log
from mislabel.stages.real_errors import render_hits

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
with job_log(sm.log[0], "real_errors_render_hits", exit_when_done=True) as log:
    paths = render_hits(
        sm.input.data[0],
        list(sm.input.scores),
        Path(sm.output[0]).parent,
        dataset=p.dataset,
        seeds=p.seeds,
        settings=p.settings,
        label_errors=sm.input.get("label_errors"),
    )
    log(f"wrote {[str(path) for path in paths]}")
