"""Adapter for rule evaluate: mislabel.stages.evaluate.evaluate_models."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.stages.evaluate import evaluate_models  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], f"evaluate {dict(sm.wildcards)}", exit_when_done=True) as log:
    unlearned = [
        (sm.input[f"model_{m}_{t}"], sm.input[f"info_{m}_{t}"])
        for m in sm.params.unlearners
        for t in sm.params.targets
    ]
    evaluate_models(sm.input.dataset, sm.input.pretrained, unlearned, sm.output.evaluation, log=log)
