"""Adapter for rule train: mislabel.stages.train.train_model."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.stages.train import train_model  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
with job_log(sm.log[0], f"train {dict(sm.wildcards)}", exit_when_done=True) as log:
    summary = train_model(
        sm.input.dataset,
        sm.output.model,
        sm.output.history,
        hidden=p.hidden,
        training=p.training,
        seed=int(sm.wildcards.seed),
        log=log,
    )
    log(f"{summary}")
