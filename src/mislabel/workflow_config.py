"""What the Snakemake workflow needs from Python: config checks the JSON schema cannot
express, and the one place that knows every output path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RESULTS = "results"
PAPER = "paper_tables"
TARGETS = ("mislabeled", "detected")

# Paper figure number of each detector's score histogram (figures 5.1-5.4).
HISTOGRAM_FIGURES = {
    "loss": "fig_5_1",
    "if_self": "fig_5_2",
    "if_train": "fig_5_3",
    "if_train_minus_z": "fig_5_4",
}


class ConfigError(ValueError):
    """The workflow configuration is inconsistent."""


def fmt_ratio(ratio: float) -> str:
    """Noise ratio as it appears in paths: shortest round-trip form (0.05 -> '0.05')."""
    return repr(float(ratio))


def run_dir(dataset: str, ratio: float | str, seed: int | str) -> str:
    """Folder of one (dataset, ratio, seed) run."""
    ratio = ratio if isinstance(ratio, str) else fmt_ratio(ratio)
    return f"{RESULTS}/{dataset}/r{ratio}/s{seed}"


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


def summary_files() -> list[str]:
    """The CSV summaries of a run."""
    names = ("detection.csv", "unlearning.csv", "benchmarks.csv", "config.yaml")
    return [f"{RESULTS}/summary/{name}" for name in names]


def paper_files(detectors: list[str]) -> list[str]:
    """Everything rendered into paper_tables/ (without paper.pdf)."""
    tables = [f"{PAPER}/table_5_{i}.tex" for i in (1, 2, 3)]
    stems = [HISTOGRAM_FIGURES[d] for d in detectors]
    stems += ["fig_accuracy_vs_ratio", "fig_auc_vs_ratio"]
    figures = [f"{PAPER}/{stem}.{ext}" for stem in stems for ext in ("pdf", "png", "tex")]
    return tables + figures + [f"{PAPER}/fig_1_1.pdf", f"{PAPER}/paper.tex"]


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
