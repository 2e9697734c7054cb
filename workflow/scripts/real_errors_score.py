"""Adapter for rule real_errors_score: mislabel.stages.real_errors.score_run."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.stages.real_errors import score_run  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
with job_log(sm.log[0], f"real_errors_score {dict(sm.wildcards)}", exit_when_done=True) as log:
    score_run(
        sm.input.data,
        sm.output.scores,
        sm.output.model,
        dataset=sm.wildcards.dataset,
        hidden=p.hidden,
        training=p.training,
        detection=p.detection,
        seed=int(sm.wildcards.seed),
        label_errors=sm.input.get("label_errors"),
        log=log,
    )
