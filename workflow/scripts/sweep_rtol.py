"""Adapter for rule sweep_rtol: mislabel.stages.rtol.sweep_rtol."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.stages.rtol import sweep_rtol  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], f"sweep_rtol {dict(sm.wildcards)}", exit_when_done=True) as log:
    sweep_rtol(
        sm.input.dataset,
        sm.input.model,
        sm.input.scores,
        sm.output.csv,
        rtols=sm.params.rtols,
        curvature=sm.params.curvature,
        log=log,
    )
