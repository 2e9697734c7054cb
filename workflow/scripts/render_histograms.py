"""Adapter for rule render_histograms: mislabel.report.histograms.render_histograms."""

from pathlib import Path

from mislabel.joblog import job_log
from mislabel.report.histograms import render_histograms

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "render_histograms", exit_when_done=True) as log:
    paths = render_histograms(
        dict(sm.input.items()),
        str(Path(sm.output[0]).parent),
        seed=sm.params.seed,
        n_seeds=sm.params.n_seeds,
        ratio=sm.params.ratio,
    )
    log(f"wrote {[str(p) for p in paths]}")
