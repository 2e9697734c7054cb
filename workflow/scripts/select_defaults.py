"""Adapter for rule select_defaults: mislabel.repair.selection.select_defaults."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.repair.selection import select_defaults  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
with job_log(sm.log[0], f"select_defaults {dict(sm.wildcards)}", exit_when_done=True) as log:
    select_defaults(
        sm.input.dataset,
        sm.output.csv,
        hidden=p.hidden,
        unlearners=p.unlearners,
        detector=p.detector,
        training=p.training,
        curvature=p.curvature,
        detection=p.detection,
        unlearning=p.unlearning,
        log=log,
    )
