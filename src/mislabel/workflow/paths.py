"""The on-disk layout of a workflow run: the one owner of every run path (no imports).

Every file of one (dataset, ratio, seed) run lives in ``{results_dir}/{RUN}``; its logs in
``{results_dir}/logs/{rule}/{RUN}...`` and its benchmarks in
``{results_dir}/benchmarks/{rule}/{RUN}...``. The functions return Snakemake patterns:
their ``{dataset}``, ``{ratio}``, ``{seed}`` (and ``{detector}``, ``{method}``,
``{target}``) placeholders are filled by the workflow, or by `run_dir` in Python.
"""

from __future__ import annotations

RESULTS = "results"  # default of the config key results_dir
SUMMARY = "results/summary"  # default of the config key summary_dir
PAPER = "paper_tables"  # default of the config key paper_dir

RUN = "{dataset}/r{ratio}/s{seed}"
RAW = "data/{dataset}.npz"  # the verified raw dataset, under results_dir

# The files of one run, relative to its folder.
NOISY = "noisy.npz"
MODEL = "model.msgpack"
HISTORY = "train_history.npz"
DETECTION = "detection.csv"  # the detection metrics of every detector (score job)
EVALUATION = "evaluation.csv"  # the test accuracy of every model (evaluate job)
TIMING = "timing.csv"  # the timing rows of every compute stage (evaluate job)
LOO = "loo_validation.csv"
SELECTION = "selection.csv"  # every candidate default unlearner on a validation split
RTOL = "rtol.csv"  # the paper's closed-form updates at every pseudo-inverse cut-off


def fmt_ratio(ratio: float) -> str:
    """Noise ratio as it appears in paths: shortest round-trip form (0.05 -> '0.05')."""
    return repr(float(ratio))


def run_dir(dataset: str, ratio: float | str, seed: int | str, results_dir: str = RESULTS) -> str:
    """Folder of one (dataset, ratio, seed) run under `results_dir`."""
    ratio = ratio if isinstance(ratio, str) else fmt_ratio(ratio)
    return f"{results_dir.rstrip('/')}/{RUN.format(dataset=dataset, ratio=ratio, seed=seed)}"


def run_file(name: str) -> str:
    """Pattern of a run's file `name` (one of the names above, or from the functions below)."""
    return f"{RUN}/{name}"


def score_file(ext: str, detector: str = "{detector}") -> str:
    """A detector's scores (``npz``) or facts (``json``), relative to the run folder."""
    return f"scores/{detector}.{ext}"


def unlearned_dir(method: str = "{method}") -> str:
    """The folder of one unlearning job (every target of one method), relative to the run
    folder: ``unlearned_name`` files and ``UNLEARN_TIMING``."""
    return f"unlearn/{method}"


def unlearned_name(ext: str, target: str) -> str:
    """An unlearned model (``msgpack``) or its facts (``json``) in its method's folder."""
    return f"{target}.{ext}"


SCORE_TIMING = "timing/score.json"  # the score job's timing facts, in the run folder
UNLEARN_TIMING = "timing.json"  # an unlearning job's timing facts, in its method's folder


def _per_job(top: str, rule: str, job: str, ext: str) -> str:
    return f"{top}/{rule}/{RUN}/{job}.{ext}" if job else f"{top}/{rule}/{RUN}.{ext}"


def log_file(rule: str, job: str = "") -> str:
    """Pattern of a per-run job's log; `job` (e.g. ``{method}``) names one of several jobs
    of the rule per run."""
    return _per_job("logs", rule, job, "log")


def benchmark_file(rule: str, job: str = "") -> str:
    """Pattern of a per-run job's Snakemake benchmark table (`job` as in `log_file`)."""
    return _per_job("benchmarks", rule, job, "tsv")
