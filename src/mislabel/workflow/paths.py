"""The on-disk layout of a workflow run: the one owner of every run path (no imports).

Every file of one (dataset, ratio, seed) run lives in ``{results_dir}/{RUN}``; its logs in
``{results_dir}/logs/{rule}/{RUN}...`` and its benchmarks in
``{results_dir}/benchmarks/{rule}/{RUN}...``. The functions return Snakemake patterns:
their ``{dataset}``, ``{ratio}``, ``{seed}`` (and ``{detector}``, ``{unlearner}``,
``{target}``) placeholders are filled by the workflow, or by `run_dir` in Python.
"""

from __future__ import annotations

RESULTS = "results"  # default of the config key results_dir
SUMMARY = "results/summary"  # default of the config key summary_dir
PAPER = "results/paper_tables"  # default of the config key paper_dir
REFERENCE = "paper_tables"  # the committed reference results (5 seeds of the default config)

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


def unlearned_dir(unlearner: str = "{unlearner}") -> str:
    """The folder of one unlearning job (every target of one unlearner), relative to the run
    folder: ``unlearned_name`` files and ``UNLEARN_TIMING``."""
    return f"unlearn/{unlearner}"


def unlearned_name(ext: str, target: str) -> str:
    """An unlearned model (``msgpack``) or its facts (``json``) in its unlearner's folder."""
    return f"{target}.{ext}"


# The check on real label errors (docs/real_errors.md): one folder per (dataset, seed); the
# logs and benchmarks of its jobs are ``log_file(rule, REAL_ERRORS_JOB, per_run=False)``.
REAL_ERRORS_JOB = "{dataset}/s{seed}"
REAL_ERRORS_RUN = f"real_errors/{REAL_ERRORS_JOB}"
REAL_ERRORS_SCORES = "scores.npz"  # every detector's scores and the suggested labels
REAL_ERRORS_MODEL = "model.msgpack"  # the model trained on the labels as given
REAL_ERRORS_FORGET = "forget.csv"  # accuracy before and after each forgetting


def real_errors_file(name: str) -> str:
    """Pattern of one real-errors run's file `name` (above), relative to `results_dir`."""
    return f"{REAL_ERRORS_RUN}/{name}"


SCORE_TIMING = "timing/score.json"  # the score job's timing facts, in the run folder
UNLEARN_TIMING = "timing.json"  # an unlearning job's timing facts, in its unlearner's folder


def _per_job(top: str, rule: str, job: str, ext: str, per_run: bool) -> str:
    folder = f"{top}/{rule}/{RUN}" if per_run else f"{top}/{rule}"
    if job:
        return f"{folder}/{job}.{ext}"
    return f"{folder}.{ext}"


def log_file(rule: str, job: str = "", *, per_run: bool = True) -> str:
    """Pattern of a job's log, relative to `results_dir`: per run (``logs/RULE/RUN.log``)
    or, with ``per_run=False``, once per workflow (``logs/RULE.log``); `job` (e.g.
    ``{unlearner}``) names one of several jobs of the rule."""
    return _per_job("logs", rule, job, "log", per_run)


def benchmark_file(rule: str, job: str = "", *, per_run: bool = True) -> str:
    """Pattern of a job's Snakemake benchmark table (arguments as in `log_file`)."""
    return _per_job("benchmarks", rule, job, "tsv", per_run)


PAPER_SKIPPED_NOTE = "logs/compile_paper_skipped.txt"  # why paper.pdf was not compiled
