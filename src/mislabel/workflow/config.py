"""What the Snakemake workflow needs from Python: config checks the JSON schema cannot
express (the settings groups' own checks among them), and the summary and paper files it
must build (run paths: `mislabel.workflow.paths`; artifact names: `mislabel.workflow.artifacts`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from mislabel import registry
from mislabel.catalog import (
    DATASETS,
    FEATURE_FILES,
    FEATURES,
    TRAIN_CLASS_COUNTS,
    missing_feature_files,
)
from mislabel.settings import (
    CurvatureSettings,
    DetectionSettings,
    RealErrorsSettings,
    TrainConfig,
    UnlearningSettings,
    from_config,
    from_mapping,
)
from mislabel.workflow.paths import PAPER, SUMMARY

# The settings groups whose fields are config keys (a rule builds each with `from_config`).
SETTINGS_GROUPS = (TrainConfig, CurvatureSettings, DetectionSettings, UnlearningSettings)


class ConfigError(ValueError):
    """The workflow configuration is inconsistent."""


INT_LIST_KEYS = ("classes", "seeds", "hidden")
FLOAT_LIST_KEYS = ("noise_ratios", "rtol_sweep")


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


def summary_file(name: str, summary_dir: str = SUMMARY) -> str:
    """The file of the summary `name` (`mislabel.workflow.artifacts.SUMMARIES`)."""
    from mislabel.workflow.artifacts import SUMMARIES

    return f"{summary_dir}/{SUMMARIES[name].file}"


def summary_files(summary_dir: str = SUMMARY) -> list[str]:
    """Every summary of a run."""
    from mislabel.workflow.artifacts import SUMMARIES

    return [summary_file(name, summary_dir) for name in SUMMARIES]


def histogram_stems(detectors: list[str]) -> list[str]:
    """File stems of the detectors' score histograms (figures 5.1-5.4, fig_extra_<name>)."""
    from mislabel.workflow.artifacts import histogram_stem

    return [histogram_stem(d) for d in detectors]


def extension_files(paper_dir: str = PAPER) -> list[str]:
    """The tables and figures beyond the paper."""
    from mislabel.workflow.artifacts import EXTENSION_FILES

    return [f"{paper_dir}/{name}" for name in EXTENSION_FILES]


def paper_files(detectors: list[str], paper_dir: str = PAPER) -> list[str]:
    """Everything rendered into the paper folder (without paper.pdf)."""
    from mislabel.workflow.artifacts import (
        CURVES,
        PAPER_TABLE_FILES,
        PAPER_TEX,
        RULEGRAPH,
        RULEGRAPH_PNG,
        figure_files,
    )

    figures = figure_files(histogram_stems(detectors) + list(CURVES))
    return (
        [f"{paper_dir}/{name}" for name in (*PAPER_TABLE_FILES, *figures)]
        + extension_files(paper_dir)
        + [f"{paper_dir}/{RULEGRAPH}", f"{paper_dir}/{RULEGRAPH_PNG}", f"{paper_dir}/{PAPER_TEX}"]
    )


def figure_pngs(detectors: list[str], paper_dir: str = PAPER) -> list[str]:
    """The PNG of every rendered figure (the results page embeds them): the histograms, the
    curves, the figures beyond the paper and Figure 1.1."""
    from mislabel.workflow.artifacts import CURVES, EXTENSION_FIGURES, RULEGRAPH_PNG

    stems = [*histogram_stems(detectors), *CURVES, *EXTENSION_FIGURES]
    return [f"{paper_dir}/{stem}.png" for stem in stems] + [f"{paper_dir}/{RULEGRAPH_PNG}"]


def compares_with_paper(config: Mapping[str, Any]) -> bool:
    """Whether the run is the paper's setting (MNIST 0 vs 1), so its tables sit beside the
    paper's published numbers."""
    return config["dataset"] == "mnist" and list(config["classes"]) == [0, 1]


def paper_vs_ours_files(config: Mapping[str, Any], summary_dir: str, paper_dir: str) -> list[str]:
    """The side-by-side tables and their CSV, for runs of the paper's setting only."""
    from mislabel.workflow.artifacts import PAPER_VS_OURS_CSV, PAPER_VS_OURS_FILES

    if not compares_with_paper(config):
        return []
    return [f"{paper_dir}/{name}" for name in PAPER_VS_OURS_FILES] + [
        f"{summary_dir}/{PAPER_VS_OURS_CSV}"
    ]


def paper_vs_ours_stems(config: Mapping[str, Any]) -> list[str]:
    """The `.tex` stem of the side-by-side table, for paper.tex (paper's setting only)."""
    from mislabel.workflow.artifacts import PAPER_VS_OURS

    return [PAPER_VS_OURS] if compares_with_paper(config) else []


def config_name(configfiles: list[str]) -> str:
    """How captions name a configuration: the files layered on config.yaml, else it."""
    layered = [f for f in configfiles if f != "config.yaml"]
    return " + ".join(layered) if layered else "config.yaml"


def name_problems(config: Mapping[str, Any]) -> list[str]:
    """Detector, unlearner and target names that the registries (`mislabel.registry`) lack."""
    registered = {
        "detectors": tuple(registry.DETECTORS),
        "pipeline_detector": tuple(registry.DETECTORS),
        "budget_estimator": registry.ESTIMATING_DETECTORS,
        "unlearners": tuple(registry.UNLEARNERS),
        "targets": registry.TARGETS,
    }
    problems = []
    for key, allowed in registered.items():
        value = config.get(key, [])
        values = value if isinstance(value, list) else [value]
        unknown = [v for v in values if v not in allowed]
        if unknown:
            problems.append(f"{key}: unknown {unknown}; allowed: {', '.join(allowed)}")
    return problems


def wildcard_constraints() -> dict[str, str]:
    """The workflow's wildcard constraints; the names come from the registries."""
    return {
        "dataset": "|".join(DATASETS),
        "ratio": r"[0-9][0-9.e-]*",
        "seed": r"[0-9]+",
        "detector": "|".join(registry.DETECTORS),
        "unlearner": "|".join(registry.UNLEARNERS),
        "target": "|".join(registry.TARGETS),
    }


def settings_problems(config: Mapping[str, Any]) -> list[str]:
    """What the settings groups' own checks refuse in the config (`mislabel.settings`); a
    key the config lacks takes the group's default."""
    problems = []
    for group in SETTINGS_GROUPS:
        try:
            from_mapping(group, {k: config[k] for k in group._fields if k in config})
        except ValueError as error:
            problems.append(str(error))
    return problems


def real_errors_names() -> tuple[str, ...]:
    """Every detector the real-errors check scores (`mislabel.registry.real_errors_detectors`).

    Imports `mislabel.detectors.probabilities` (NumPy, which Snakemake itself has loaded
    already): the names of `find_issues`' detectors live with their functions."""
    from mislabel.detectors.probabilities import PROB_DETECTORS

    return registry.real_errors_detectors(PROB_DETECTORS)


def real_errors_problems(config: Mapping[str, Any]) -> list[str]:
    """What the real-errors check (the config's ``real_errors`` mapping) cannot run with."""
    block = config.get("real_errors")
    if not block:
        return []
    try:
        settings = from_config(RealErrorsSettings, block)
    except ValueError as error:
        return [f"real_errors: {error}"]
    problems = []
    names = real_errors_names()
    if settings.forget_detector not in names:
        problems.append(
            f"real_errors.forget_detector={settings.forget_detector!r} is not scored by the "
            f"real-errors check; choose one of {', '.join(names)}"
        )
    label_errors = block["label_errors"]
    if label_errors is None and config["dataset"] != "mnist":
        problems.append(
            f"real_errors.label_errors: null means the shipped table of MNIST's test-set errors, "
            f"but dataset={config['dataset']!r}; give the CSV of your dataset's known errors"
        )
    elif label_errors is not None and not os.path.isfile(label_errors):
        problems.append(f"real_errors.label_errors={label_errors!r} is not a file")
    return problems


def real_errors_hits_files(paper_dir: str = PAPER) -> list[str]:
    """The hits table and the figures of the real-errors check, in `paper_dir`."""
    from mislabel.workflow.artifacts import real_errors_hits_files as names

    return [f"{paper_dir}/{name}" for name in names(real_errors_names())]


def real_errors_forget_files(paper_dir: str = PAPER) -> list[str]:
    """The table of forgetting of the real-errors check, in `paper_dir`."""
    from mislabel.workflow.artifacts import REAL_ERRORS_FORGET_FILES

    return [f"{paper_dir}/{name}" for name in REAL_ERRORS_FORGET_FILES]


def cross_check(config: Mapping[str, Any]) -> list[str]:
    """Problems the schema cannot see; each message names the key, the value and the fix."""
    problems = name_problems(config) + settings_problems(config) + real_errors_problems(config)
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
    counts = train_class_counts(config, problems)
    if counts is None:
        return problems
    per_class, n_train, known = config["train_per_class"], 0, len(problems)
    for c in config["classes"]:
        if c not in counts:
            problems.append(
                f"classes contains {c}, but {config['dataset']} has classes {_id_range(counts)}"
            )
        elif per_class is not None and per_class > counts[c]:
            problems.append(
                f"train_per_class={per_class} exceeds the {counts[c]} training "
                f"samples of class {c} in {config['dataset']}; lower train_per_class"
            )
        else:
            n_train += counts[c] if per_class is None else per_class
    if len(problems) > known:  # the sizes below would be wrong
        return problems
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


def train_class_counts(config: Mapping[str, Any], problems: list[str]) -> dict[int, int] | None:
    """Training samples per class id of the config's dataset; None (and a problem added)
    when own features are missing or unreadable."""
    features = config.get("features")
    if config["dataset"] != FEATURES:
        if features:
            problems.append(
                f"features is set, but dataset={config['dataset']!r}; set dataset: features "
                "to use your own files, or features: null"
            )
        return dict(enumerate(TRAIN_CLASS_COUNTS[config["dataset"]]))
    missing = missing_feature_files(features)
    if missing:
        given = {k: (features or {}).get(k) for k in missing}
        problems.append(
            f"dataset: features needs features.{{{','.join(FEATURE_FILES)}}}, each the path of a "
            f".npy file; unset or not a file: {given}"
        )
        return None
    from mislabel.data.features import class_counts  # numpy: only for own features

    try:
        return class_counts(features["train_labels"])
    except ValueError as err:
        problems.append(f"features.train_labels: {err}")
        return None


def _id_range(counts: Mapping[int, int]) -> str:
    """The class ids of a dataset, as `0..9` when contiguous from 0."""
    ids = sorted(counts)
    return f"0..{ids[-1]}" if ids == list(range(len(ids))) else str(ids)


def schema_problems(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """What the JSON schema refuses, a line per problem: the key, the value, what is allowed;
    an unknown key with the closest allowed one and the list of allowed keys."""
    import difflib

    import jsonschema

    properties = schema.get("properties", {})
    problems = []
    errors = jsonschema.Draft202012Validator(schema).iter_errors(dict(config))
    for err in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            allowed = sorted(err.schema.get("properties", {}))
            where = f"{'.'.join(map(str, path))}." if path else ""
            for key in sorted(set(err.instance) - set(allowed)):
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"; did you mean '{where}{close[0]}'?" if close else "."
                problems.append(
                    f"unknown key '{where}{key}'{hint} Allowed keys: {', '.join(allowed)}"
                )
            continue
        key = str(path[0]) if path else "config"
        where = key + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])
        about = " ".join(str(properties.get(key, {}).get("description", "")).split())
        problems.append(f"{where}: {err.message}" + (f" ({key}: {about})" if about else ""))
    return problems


def check(config: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> None:
    """Raise ConfigError listing every problem: the schema's (if given), else every
    cross-field one."""
    problems = schema_problems(config, schema) if schema is not None else []
    if not problems:
        problems = cross_check(config)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))


def extension_stems() -> list[str]:
    """The `.tex` stems of the tables and figures beyond the paper (for paper.tex)."""
    from mislabel.workflow.artifacts import EXTENSION_FIGURES, EXTENSION_TABLES

    return [*EXTENSION_TABLES, *EXTENSION_FIGURES]
