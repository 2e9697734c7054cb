"""What the Snakemake workflow needs from Python: config checks the JSON schema cannot
express, and the one place that knows every output path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RESULTS = "results"  # default of the config key results_dir
SUMMARY = "results/summary"  # default of the config key summary_dir
PAPER = "paper_tables"  # default of the config key paper_dir
PAPER_TABLES = ("table_5_1", "table_5_2", "table_5_3")
CURVES = ("fig_accuracy_vs_ratio", "fig_auc_vs_ratio")


class ConfigError(ValueError):
    """The workflow configuration is inconsistent."""


def fmt_ratio(ratio: float) -> str:
    """Noise ratio as it appears in paths: shortest round-trip form (0.05 -> '0.05')."""
    return repr(float(ratio))


def run_dir(dataset: str, ratio: float | str, seed: int | str, results_dir: str = RESULTS) -> str:
    """Folder of one (dataset, ratio, seed) run under `results_dir`."""
    ratio = ratio if isinstance(ratio, str) else fmt_ratio(ratio)
    return f"{results_dir.rstrip('/')}/{dataset}/r{ratio}/s{seed}"


INT_LIST_KEYS = ("classes", "seeds", "hidden")
FLOAT_LIST_KEYS = ("noise_ratios",)


def coerce_numbers(config: dict[str, Any]) -> None:
    """Turn numeric strings inside list values into numbers, in place.

    `snakemake --config seeds=[0,1,2]` delivers ['0', '1', '2']; the schema then checks the
    numbers. Strings that are not numbers are left for the schema to refuse.
    """

    def number(value: Any, kind: type) -> Any:
        if isinstance(value, str):
            try:
                return kind(value) if kind is float else int(value.strip())
            except ValueError:
                return value
        return value

    for key, kind in [(k, int) for k in INT_LIST_KEYS] + [(k, float) for k in FLOAT_LIST_KEYS]:
        if isinstance(config.get(key), list):
            config[key] = [number(v, kind) for v in config[key]]


SUMMARY_NAMES = (
    "detection.csv",
    "unlearning.csv",
    "loo_validation.csv",
    "timing.csv",
    "benchmarks.csv",
    "config.yaml",
)


def summary_files(summary_dir: str = SUMMARY) -> list[str]:
    """The CSV summaries of a run."""
    return [f"{summary_dir}/{name}" for name in SUMMARY_NAMES]


def histogram_stems(detectors: list[str]) -> list[str]:
    """File stems of the detectors' score histograms (figures 5.1-5.4, fig_extra_<name>)."""
    from mislabel.artifacts import histogram_stem

    return [histogram_stem(d) for d in detectors]


def extension_files(paper_dir: str = PAPER) -> list[str]:
    """The tables and figures beyond the paper."""
    from mislabel.artifacts import EXTENSION_FILES

    return [f"{paper_dir}/{name}" for name in EXTENSION_FILES]


def paper_files(detectors: list[str], paper_dir: str = PAPER) -> list[str]:
    """Everything rendered into the paper folder (without paper.pdf)."""
    tables = [f"{paper_dir}/{stem}.tex" for stem in PAPER_TABLES]
    stems = histogram_stems(detectors) + list(CURVES)
    figures = [f"{paper_dir}/{stem}.{ext}" for stem in stems for ext in ("pdf", "png", "tex")]
    return (
        tables
        + figures
        + extension_files(paper_dir)
        + [f"{paper_dir}/fig_1_1.pdf", f"{paper_dir}/paper.tex"]
    )


def compares_with_paper(config: Mapping[str, Any]) -> bool:
    """Whether the run is the paper's setting (MNIST 0 vs 1), so its tables sit beside the
    paper's published numbers."""
    return config["dataset"] == "mnist" and list(config["classes"]) == [0, 1]


def paper_vs_ours_files(config: Mapping[str, Any], summary_dir: str, paper_dir: str) -> list[str]:
    """The side-by-side tables and their CSV, for runs of the paper's setting only."""
    from mislabel.artifacts import PAPER_VS_OURS_CSV, PAPER_VS_OURS_FILES

    if not compares_with_paper(config):
        return []
    return [f"{paper_dir}/{name}" for name in PAPER_VS_OURS_FILES] + [
        f"{summary_dir}/{PAPER_VS_OURS_CSV}"
    ]


def paper_vs_ours_stems(config: Mapping[str, Any]) -> list[str]:
    """The `.tex` stem of the side-by-side table, for paper.tex (paper's setting only)."""
    from mislabel.artifacts import PAPER_VS_OURS_FILES

    return [PAPER_VS_OURS_FILES[0][: -len(".tex")]] if compares_with_paper(config) else []


def config_name(configfiles: list[str]) -> str:
    """How captions name a configuration: the files layered on config.yaml, else it."""
    layered = [f for f in configfiles if f != "config.yaml"]
    return " + ".join(layered) if layered else "config.yaml"


def cross_check(config: Mapping[str, Any]) -> list[str]:
    """Problems the schema cannot see; each message names the key, the value and the fix."""
    from mislabel.data import TRAIN_CLASS_COUNTS

    problems = []
    if config["pipeline_detector"] not in config["detectors"]:
        problems.append(
            f"pipeline_detector={config['pipeline_detector']!r} is not among detectors="
            f"{list(config['detectors'])}; add it to detectors or pick one of them"
        )
    ratios = [float(r) for r in config["noise_ratios"]]
    if float(config["histogram_ratio"]) not in ratios:
        problems.append(
            f"histogram_ratio={config['histogram_ratio']} is not one of noise_ratios={ratios}; "
            "pick one of them"
        )
    if "detected_estimated" in config["targets"] and (
        config["budget_estimator"] not in config["detectors"]
    ):
        problems.append(
            f"targets include detected_estimated, but budget_estimator="
            f"{config['budget_estimator']!r} is not among detectors={list(config['detectors'])}; "
            "add it to detectors or drop detected_estimated from targets"
        )
    if config["noise_positions"] == "first" and config["noise_mode"] != "exact":
        problems.append(
            f"noise_positions='first' needs noise_mode='exact' (a fixed number of flips per "
            f"class), got noise_mode={config['noise_mode']!r}; set noise_mode: exact or "
            "noise_positions: random"
        )
    if config["summary_dir"].rstrip("/") == config["paper_dir"].rstrip("/"):
        problems.append(
            f"summary_dir and paper_dir are both {config['summary_dir']!r}; give them "
            "different folders"
        )
    counts = TRAIN_CLASS_COUNTS[config["dataset"]]
    for c in config["classes"]:
        if c >= len(counts):
            problems.append(
                f"classes contains {c}, but {config['dataset']} has classes 0..{len(counts) - 1}"
            )
        elif config["train_per_class"] > counts[c]:
            problems.append(
                f"train_per_class={config['train_per_class']} exceeds the {counts[c]} training "
                f"images of class {c} in {config['dataset']}; lower train_per_class"
            )
    n_train = config["train_per_class"] * len(config["classes"])
    if config["loo_samples"] > n_train // 2:
        problems.append(
            f"loo_samples={config['loo_samples']} is more than half the {n_train} training "
            "samples; lower it (40 is plenty)"
        )
    if config["batch_size"] > n_train // 2:
        problems.append(
            f"batch_size={config['batch_size']} is more than half the {n_train} training "
            "samples; retraining after forgetting could have fewer samples than one batch"
        )
    return problems


def check(config: Mapping[str, Any]) -> None:
    """Raise ConfigError listing every cross-field problem."""
    problems = cross_check(config)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))


def curvature_settings(config: Mapping[str, Any]) -> dict:
    """The config keys of `mislabel.settings.CurvatureSettings`, as a dict (rule params)."""
    return {
        "damping": config["damping"],
        "rtol": config["pinv_rtol"],
        "full_damping": config["full_damping"],
        "lanczos_rank": config["lanczos_rank"],
        "cg_tol": config["cg_tol"],
        "cg_maxiter": config["cg_maxiter"],
    }


def detection_settings(config: Mapping[str, Any]) -> dict:
    """The config keys of `mislabel.settings.DetectionSettings`."""
    return {"aum_percentile": config["aum_percentile"], "cv_folds": config["cv_folds"]}


def training_settings(config: Mapping[str, Any]) -> dict:
    """SGD settings of training (and of retraining / fine-tuning)."""
    return {k: config[k] for k in ("lr", "momentum", "batch_size", "epochs")}


def unlearning_settings(config: Mapping[str, Any]) -> dict:
    """The config keys of `mislabel.settings.UnlearningSettings`."""
    keys = ("finetune_epochs", "neggrad_alpha", "neggrad_epochs", "relabel_epochs")
    return {k: config[k] for k in keys}


def extension_stems() -> list[str]:
    """The `.tex` stems of the tables and figures beyond the paper (for paper.tex)."""
    from mislabel.artifacts import EXTENSION_FILES

    return [name[: -len(".tex")] for name in EXTENSION_FILES if name.endswith(".tex")]
