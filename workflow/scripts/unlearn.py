"""Adapter for rule unlearn: mislabel.stages.unlearn.unlearn_run."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.stages.unlearn import unlearn_run  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
with job_log(sm.log[0], f"unlearn {dict(sm.wildcards)}", exit_when_done=True) as log:
    unlearn_run(
        sm.input.dataset,
        sm.input.model,
        dict(zip(p.targets, sm.output.models, strict=True)),
        dict(zip(p.targets, sm.output.info, strict=True)),
        sm.output.timing,
        method=sm.wildcards.method,
        scores_path=sm.input.get("scores"),
        budget_path=sm.input.get("budget"),
        curvature=p.curvature,
        training=p.training,
        unlearning=p.unlearning,
        seed=int(sm.wildcards.seed),
        log=log,
    )
