"""Adapter for rule validate_loo: mislabel.stages.validate.validate_loo."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.stages.validate import validate_loo  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
with job_log(sm.log[0], f"validate_loo {dict(sm.wildcards)}", exit_when_done=True) as log:
    validate_loo(
        sm.input.dataset,
        sm.output.csv,
        samples=p.samples,
        curvature=p.curvature,
        training=p.training,
        log=log,
    )
