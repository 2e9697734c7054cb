"""Adapter for rule inject_noise: mislabel.stages.data.make_noisy_dataset."""

from mislabel.joblog import job_log
from mislabel.stages.data import make_noisy_dataset

sm = snakemake  # noqa: F821 (injected by Snakemake)
w = sm.wildcards
with job_log(sm.log[0], f"inject_noise {dict(w)}", exit_when_done=True) as log:
    summary = make_noisy_dataset(
        sm.input.raw,
        sm.output.dataset,
        dataset=w.dataset,
        classes=sm.params.classes,
        train_per_class=sm.params.train_per_class,
        subset=sm.params.subset,
        noise_mode=sm.params.noise_mode,
        noise_positions=sm.params.noise_positions,
        test_per_class=sm.params.test_per_class,
        ratio=float(w.ratio),
        seed=int(w.seed),
    )
    log(f"{summary}")
