"""Adapter for rule score: mislabel.stages.score.score_run, then the run's detection table
(mislabel.stages.aggregate.detection_table)."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.stages.aggregate import detection_table  # noqa: E402
from mislabel.stages.score import score_run  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
with job_log(sm.log[0], f"score {dict(sm.wildcards)}", exit_when_done=True) as log:
    score_run(
        sm.input.dataset,
        sm.input.model,
        dict(zip(p.detectors, sm.output.scores, strict=True)),
        dict(zip(p.detectors, sm.output.info, strict=True)),
        sm.output.timing,
        budget=p.budget,
        history_path=sm.input.history,
        curvature=p.curvature,
        detection=p.detection,
        log=log,
    )
    detection_table(sm.output.scores, sm.output.info, sm.output.detection)
