"""Adapter for rule real_errors_render_forget: mislabel.stages.real_errors_forget.render_forget."""

from pathlib import Path

from mislabel.joblog import job_log
from mislabel.stages.real_errors_forget import render_forget

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "real_errors_render_forget", exit_when_done=True) as log:
    paths = render_forget(list(sm.input.forget), Path(sm.output[0]).parent, seeds=sm.params.seeds)
    log(f"wrote {[str(path) for path in paths]}")
