"""Adapter for rule score: mislabel.stages.score_samples."""

from mislabel.joblog import job_log, use_jax_cache

use_jax_cache()
from mislabel.stages import score_samples  # noqa: E402

sm = snakemake  # noqa: F821 (injected by Snakemake)
p = sm.params
with job_log(sm.log[0], f"score {dict(sm.wildcards)}") as log:
    score_samples(
        sm.input.dataset,
        sm.input.model,
        sm.output.scores,
        sm.output.metrics,
        detector=sm.wildcards.detector,
        ratio=float(sm.wildcards.ratio),
        history_path=sm.input.history,
        curvature=p.curvature,
        detection=p.detection,
        with_metrics=False,
        log=log,
    )
