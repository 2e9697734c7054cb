"""Adapter for rule evaluate: mislabel.stages.evaluate.evaluate_models, then the run's
timing table (mislabel.stages.aggregate.timing_table)."""

import os

from mislabel.joblog import job_log, use_jax_cache
from mislabel.workflow import paths

use_jax_cache()
from mislabel.stages.aggregate import timing_table  # noqa: E402
from mislabel.stages.evaluate import evaluate_models  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
folders = dict(zip(sm.params.unlearners, sm.input.unlearned, strict=True))
with job_log(sm.log[0], f"evaluate {dict(sm.wildcards)}", exit_when_done=True) as log:
    unlearned = [
        tuple(os.path.join(folders[m], paths.unlearned_name(ext, t)) for ext in ("msgpack", "json"))
        for m in sm.params.unlearners
        for t in sm.params.targets
    ]
    evaluate_models(sm.input.dataset, sm.input.pretrained, unlearned, sm.output.evaluation, log=log)
    timings = [os.path.join(folders[m], paths.UNLEARN_TIMING) for m in sm.params.unlearners]
    timing_table([sm.input.score_timing, *timings], sm.output.timing)
