# Config validation and input functions. Run paths come from mislabel.workflow.paths, file names
# from mislabel.workflow.artifacts.
import os
import shutil
import sys

import yaml

# The package comes from this repository's src/, installed or not (a conda env of
# `--sdm conda` does not install it): here, while Snakemake parses the workflow (which
# needs no numpy), and in every job, whose script preamble extends sys.path with this one.
sys.path.insert(0, os.path.join(workflow.basedir, "src"))

from mislabel.workflow import artifacts, paths
from mislabel.workflow import config as wc
from mislabel.catalog import FEATURES
from mislabel.settings import (
    CurvatureSettings,
    DetectionSettings,
    RealErrorsSettings,
    TrainConfig,
    UnlearningSettings,
    from_config,
)

wc.coerce_numbers(config)
with open(
    os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml")
) as schema:
    wc.check(config, yaml.safe_load(schema))

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
# The check on real label errors (docs/real_errors.md), the target when real_errors is set.
REAL_ERRORS = config["real_errors"]


wildcard_constraints:
    **wc.wildcard_constraints(),


def res(path):
    """`path` under the config's results_dir (every run's files, logs and benchmarks)."""
    return f"{RESULTS}/{path}"


def summary_file(name):
    """The file of the summary `name` (`mislabel.workflow.artifacts.SUMMARIES`)."""
    return wc.summary_file(name, SUMMARY)


def run(name):
    """Pattern of one run's file `name` (`mislabel.workflow.paths`) under results_dir."""
    return res(paths.run_file(name))


def expand_runs(pattern, **extra):
    """`pattern` for every (ratio, seed) of the config."""
    return expand(pattern, dataset=DATASET, ratio=RATIOS, seed=SEEDS, **extra)


def own_features(wildcards):
    """The .npy files of `dataset: features` (none for a built-in dataset)."""
    return config["features"] if wildcards.dataset == FEATURES else {}


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


def paper_sources(suffix):
    """The rendered files that paper.tex includes, those ending with `suffix`: the tables
    and figure captions (.tex) or the figures (.pdf)."""
    return [
        f
        for f in wc.paper_files(config["detectors"], PAPER)
        + wc.paper_vs_ours_files(config, SUMMARY, PAPER)
        if f.endswith(suffix) and not f.endswith(artifacts.PAPER_TEX)
    ]


def label_errors_input(wildcards):
    """The real-errors check's table of known errors, where the config names one."""
    path = REAL_ERRORS and REAL_ERRORS["label_errors"]
    return {"label_errors": path} if path else {}


def all_targets(wildcards):
    """The summaries, the results page, the side-by-side table and paper.pdf (or, without
    TeX, paper.tex and the note saying why there is no PDF). paper.tex needs every rendered
    table and figure, so they are built without being listed here. With real_errors set:
    the tables and figures of the check on real label errors instead."""
    if REAL_ERRORS:
        return wc.real_errors_hits_files(PAPER) + wc.real_errors_forget_files(PAPER)
    paper = (
        [f"{PAPER}/{artifacts.PAPER_PDF}"]
        if HAS_TEX
        else [f"{PAPER}/{artifacts.PAPER_TEX}", res(paths.PAPER_SKIPPED_NOTE)]
    )
    side_by_side = wc.paper_vs_ours_files(config, SUMMARY, PAPER)
    results = [
        f"{PAPER}/{name}"
        for name in (
            artifacts.RESULTS_MD,
            artifacts.RESULTS_BEYOND_MD,
            artifacts.RESULTS_HTML,
            artifacts.DEFAULT_SELECTION_MD,
            artifacts.RTOL_MD,
        )
    ]
    return wc.summary_files(SUMMARY) + results + side_by_side + paper
