# Config validation and input functions. Run paths come from mislabel.paths, file names
# from mislabel.artifacts.
import os
import shutil

from snakemake.utils import validate

from mislabel import artifacts, paths
from mislabel import workflow_config as wc
from mislabel.data.features import FEATURES

wc.coerce_numbers(config)
validate(config, "../schemas/config.schema.yaml")
wc.check(config)

RATIOS = [paths.fmt_ratio(r) for r in config["noise_ratios"]]
HISTOGRAM_RATIO = paths.fmt_ratio(config["histogram_ratio"])
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
    **wc.wildcard_constraints(),


def res(path):
    """`path` under the config's results_dir (every run's files, logs and benchmarks)."""
    return f"{RESULTS}/{path}"


def run(name):
    """Pattern of one run's file `name` (`mislabel.paths`) under results_dir."""
    return res(paths.run_file(name))


def expand_runs(pattern, **extra):
    """`pattern` for every (ratio, seed) of the config."""
    return expand(pattern, dataset=DATASET, ratio=RATIOS, seed=SEEDS, **extra)


def own_features(wildcards):
    """The .npy files of `dataset: features` (none for a built-in dataset)."""
    return config["features"] if wildcards.dataset == FEATURES else {}


def unlearned_models(wildcards):
    """Every unlearned model of one (dataset, ratio, seed), with its info file."""
    folder = paths.run_dir(wildcards.dataset, wildcards.ratio, wildcards.seed, RESULTS)
    return {
        f"{kind}_{method}_{target}": f"{folder}/{paths.unlearned_file(ext, method, target)}"
        for method in config["unlearners"]
        for target in config["targets"]
        for kind, ext in (("model", "msgpack"), ("info", "json"))
    }


def forget_inputs(wildcards):
    """Detected targets need the pipeline detector's scores (and the estimator's budget)."""
    folder = paths.run_dir(wildcards.dataset, wildcards.ratio, wildcards.seed, RESULTS)
    inputs = {}
    if {"detected", "detected_estimated"} & set(config["targets"]):
        inputs["scores"] = (
            f"{folder}/{paths.score_file('npz', config['pipeline_detector'])}"
        )
    if "detected_estimated" in config["targets"]:
        inputs["budget"] = (
            f"{folder}/{paths.score_file('npz', config['budget_estimator'])}"
        )
    return inputs


def histogram_scores(wildcards):
    """Score files of every configured detector at histogram_ratio, first seed."""
    folder = paths.run_dir(DATASET, HISTOGRAM_RATIO, SEEDS[0], RESULTS)
    return {d: f"{folder}/{paths.score_file('npz', d)}" for d in config["detectors"]}


def all_targets(wildcards):
    """Summaries, every paper artifact, and paper.pdf (or the note saying why not)."""
    pdf = (
        [f"{PAPER}/{artifacts.PAPER_PDF}"]
        if HAS_TEX
        else [res("logs/compile_paper_skipped.txt")]
    )
    return (
        wc.summary_files(SUMMARY)
        + wc.paper_files(config["detectors"], PAPER)
        + wc.paper_vs_ours_files(config, SUMMARY, PAPER)
        + pdf
    )
