"""Adapter for rule write_paper: mislabel.report.paper.write_paper_tex."""

from pathlib import Path

from mislabel.joblog import job_log
from mislabel.report.paper import write_paper_tex

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "write_paper", exit_when_done=True) as log:
    path = write_paper_tex(
        str(Path(sm.output[0]).parent),
        tables=sm.params.tables,
        figures=sm.params.figures + sm.params.extensions,
    )
    log(f"wrote {path}")
