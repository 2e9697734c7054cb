"""Adapter for rule unlearn: mislabel.stages.unlearn_model."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.stages import unlearn_model  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
with job_log(sm.log[0], f"unlearn {dict(sm.wildcards)}") as log:
    unlearn_model(
        sm.input.dataset,
        sm.input.model,
        sm.output.model,
        sm.output.info,
        method=sm.wildcards.method,
        target=sm.wildcards.target,
        scores_path=sm.input.get("scores"),
        budget_path=sm.input.get("budget"),
        curvature=p.curvature,
        training=p.training,
        unlearning=p.unlearning,
        seed=int(sm.wildcards.seed),
        log=log,
    )
