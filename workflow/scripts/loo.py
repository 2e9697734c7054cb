"""Adapter for rule loo: mislabel.stages.loo.loo_run."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.stages.loo import loo_run  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
with job_log(sm.log[0], f"loo {dict(sm.wildcards)}", exit_when_done=True) as log:
    loo_run(
        sm.input.dataset,
        sm.output.csv,
        samples=p.samples,
        curvature=p.curvature,
        training=p.training,
        log=log,
    )
