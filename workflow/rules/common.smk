# Config validation and input functions. Paths are built in mislabel.workflow_config.
import os
import shutil

from snakemake.utils import validate

from mislabel import names
from mislabel import workflow_config as wc

wc.coerce_numbers(config)
validate(config, "../schemas/config.schema.yaml")
wc.check(config)

RATIOS = [wc.fmt_ratio(r) for r in config["noise_ratios"]]
SEEDS = [str(s) for s in config["seeds"]]
DATASET = config["dataset"]
RESULTS = config["results_dir"].rstrip("/")
SUMMARY = config["summary_dir"].rstrip("/")
PAPER = config["paper_dir"].rstrip("/")
HAS_TEX = shutil.which("pdflatex") is not None
# How captions name this configuration: the config files layered on config.yaml, if any.
CONFIG_NAME = wc.config_name(
    [os.path.relpath(f, workflow.basedir) for f in workflow.configfiles]
)
ENV = "../../envs/mislabel.yaml"


wildcard_constraints:
    dataset="mnist|fashion_mnist",
    ratio=r"[0-9][0-9.e-]*",
    seed=r"[0-9]+",
    detector="|".join(names.DETECTORS),
    method="|".join(names.METHODS),
    target="|".join(names.TARGETS),


def res(path):
    """`path` under the config's results_dir (every run's files, logs and benchmarks)."""
    return f"{RESULTS}/{path}"


def expand_runs(pattern, **extra):
    """`pattern` for every (ratio, seed) of the config."""
    return expand(pattern, dataset=DATASET, ratio=RATIOS, seed=SEEDS, **extra)


def unlearned_models(wildcards):
    """Every unlearned model of one (dataset, ratio, seed), with its info file."""
    run = wc.run_dir(wildcards.dataset, wildcards.ratio, wildcards.seed, RESULTS)
    return {
        f"{kind}_{method}_{target}": f"{run}/unlearn/{method}_{target}.{ext}"
        for method in config["unlearners"]
        for target in config["targets"]
        for kind, ext in (("model", "msgpack"), ("info", "json"))
    }


def forget_inputs(wildcards):
    """Detected targets need the pipeline detector's scores (and the estimator's budget)."""
    run = wc.run_dir(wildcards.dataset, wildcards.ratio, wildcards.seed, RESULTS)
    inputs = {}
    if {"detected", "detected_estimated"} & set(config["targets"]):
        inputs["scores"] = f"{run}/scores/{config['pipeline_detector']}.npz"
    if "detected_estimated" in config["targets"]:
        inputs["budget"] = f"{run}/scores/{config['budget_estimator']}.npz"
    return inputs


def histogram_scores(wildcards):
    """Score files of every configured detector at histogram_ratio, first seed."""
    run = wc.run_dir(DATASET, config["histogram_ratio"], SEEDS[0], RESULTS)
    return {d: f"{run}/scores/{d}.npz" for d in config["detectors"]}


def all_targets(wildcards):
    """Summaries, every paper artifact, and paper.pdf (or the note saying why not)."""
    pdf = [f"{PAPER}/paper.pdf"] if HAS_TEX else [res("logs/compile_paper_skipped.txt")]
    return (
        wc.summary_files(SUMMARY)
        + wc.paper_files(config["detectors"], PAPER)
        + wc.paper_vs_ours_files(config, SUMMARY, PAPER)
        + pdf
    )
