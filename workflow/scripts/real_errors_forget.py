"""Adapter for rule real_errors_forget: mislabel.stages.real_errors_forget.forget_run."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.stages.real_errors_forget import forget_run  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
with job_log(sm.log[0], f"real_errors_forget {dict(sm.wildcards)}", exit_when_done=True) as log:
    forget_run(
        sm.input.data,
        sm.input.scores,
        sm.input.model,
        sm.output.forget,
        dataset=sm.wildcards.dataset,
        settings=p.settings,
        unlearners=p.unlearners,
        seed=int(sm.wildcards.seed),
        training=p.training,
        curvature=p.curvature,
        unlearning=p.unlearning,
        log=log,
    )
