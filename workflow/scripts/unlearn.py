"""Adapter for rule unlearn: mislabel.stages.unlearn.unlearn_run, into the unlearner's folder."""

import os

from mislabel.joblog import job_log, use_jax_cache
from mislabel.workflow import paths

use_jax_cache()
from mislabel.stages.unlearn import unlearn_run  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
folder = sm.output.folder


def in_folder(ext):
    return {t: os.path.join(folder, paths.unlearned_name(ext, t)) for t in p.targets}


with job_log(sm.log[0], f"unlearn {dict(sm.wildcards)}", exit_when_done=True) as log:
    unlearn_run(
        sm.input.dataset,
        sm.input.model,
        in_folder("msgpack"),
        in_folder("json"),
        os.path.join(folder, paths.UNLEARN_TIMING),
        unlearner=sm.wildcards.unlearner,
        scores_path=sm.input.get("scores"),
        budget_path=sm.input.get("budget"),
        curvature=p.curvature,
        training=p.training,
        unlearning=p.unlearning,
        seed=int(sm.wildcards.seed),
        log=log,
    )
