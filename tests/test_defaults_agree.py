"""One default, three places: config.yaml (the workflow), the settings NamedTuples (the
library) and the `mislabel` command's options must agree wherever two of them name it.

Only config.yaml counts: tests/tiny_config.yaml and configs/*.yaml override keys on
purpose. A new settings field must be mapped below (a test checks), so a default can
never drift unseen.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from mislabel.cli.parser import build_parser
from mislabel.settings import CurvatureSettings, DetectionSettings, TrainConfig, UnlearningSettings

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())

# config key -> (settings class, its field), for every field of every settings class
SETTINGS = {
    "damping": [(CurvatureSettings, "damping")],
    "pinv_rtol": [(CurvatureSettings, "pinv_rtol")],
    "full_damping": [(CurvatureSettings, "full_damping")],
    "lanczos_rank": [(CurvatureSettings, "lanczos_rank")],
    "cg_tol": [(CurvatureSettings, "cg_tol")],
    "cg_maxiter": [(CurvatureSettings, "cg_maxiter")],
    "head_curvature": [(CurvatureSettings, "head_curvature")],
    "memory_budget": [(CurvatureSettings, "memory_budget")],
    "aum_percentile": [(DetectionSettings, "aum_percentile")],
    "cv_folds": [(DetectionSettings, "cv_folds")],
    "finetune_epochs": [(UnlearningSettings, "finetune_epochs")],
    "neggrad_alpha": [(UnlearningSettings, "neggrad_alpha")],
    "neggrad_epochs": [(UnlearningSettings, "neggrad_epochs")],
    "neggrad_momentum": [(UnlearningSettings, "neggrad_momentum")],
    "relabel_epochs": [(UnlearningSettings, "relabel_epochs")],
    **{key: [(TrainConfig, key)] for key in TrainConfig._fields},
}

CURVATURE_COMMANDS = ("score", "unlearn", "repair")
DETECTION_COMMANDS = ("score", "repair")
UNLEARNING_COMMANDS = ("unlearn", "repair")

# config key -> (commands, option dest): every option whose default config.yaml also sets
CLI = {
    "damping": (CURVATURE_COMMANDS, "damping"),
    "pinv_rtol": (CURVATURE_COMMANDS, "pinv_rtol"),
    "full_damping": (CURVATURE_COMMANDS, "full_damping"),
    "lanczos_rank": (CURVATURE_COMMANDS, "lanczos_rank"),
    "cg_tol": (CURVATURE_COMMANDS, "cg_tol"),
    "cg_maxiter": (CURVATURE_COMMANDS, "cg_maxiter"),
    "head_curvature": ((*CURVATURE_COMMANDS, "repair-head"), "head_curvature"),
    "memory_budget": ((*CURVATURE_COMMANDS, "repair-head"), "memory_budget"),
    "aum_percentile": (DETECTION_COMMANDS, "aum_percentile"),
    "cv_folds": (DETECTION_COMMANDS, "cv_folds"),
    "finetune_epochs": (UNLEARNING_COMMANDS, "finetune_epochs"),
    "neggrad_alpha": (UNLEARNING_COMMANDS, "neggrad_alpha"),
    "neggrad_epochs": (UNLEARNING_COMMANDS, "neggrad_epochs"),
    "neggrad_momentum": (UNLEARNING_COMMANDS, "neggrad_momentum"),
    "relabel_epochs": (UNLEARNING_COMMANDS, "relabel_epochs"),
    # train; unlearn and repair default to the model file's own SGD settings instead
    "lr": (("train",), "lr"),
    "momentum": (("train",), "momentum"),
    "batch_size": (("train",), "batch_size"),
    "epochs": (("train",), "epochs"),
    "hidden": (("train",), "hidden"),
    # the data commands (no settings class)
    "dataset": (("fetch",), "dataset"),
    "classes": (("noise",), "classes"),
    "train_per_class": (("noise",), "train_per_class"),
    "subset": (("noise",), "subset"),
    "noise_mode": (("noise",), "noise_mode"),
    "noise_positions": (("noise",), "noise_positions"),
    "test_per_class": (("noise",), "test_per_class"),
}


def commands() -> dict[str, argparse.ArgumentParser]:
    """The subcommand parsers of `mislabel`, by name."""
    parser = build_parser()
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices


def test_every_settings_field_has_its_config_key():
    mapped = {(cls, field) for pairs in SETTINGS.values() for cls, field in pairs}
    for cls in (CurvatureSettings, DetectionSettings, UnlearningSettings, TrainConfig):
        for field in cls._fields:
            assert (cls, field) in mapped, f"{cls.__name__}.{field} has no config key here"
    assert set(SETTINGS) <= set(CONFIG) and set(CLI) <= set(CONFIG)


@pytest.mark.parametrize("key", sorted(SETTINGS))
def test_settings_defaults_equal_config(key):
    for cls, field in SETTINGS[key]:
        assert getattr(cls(), field) == CONFIG[key], f"{cls.__name__}.{field} vs config {key}"


@pytest.mark.parametrize("key", sorted(CLI))
def test_cli_defaults_equal_config(key):
    names, dest = CLI[key]
    parsers = commands()
    for name in names:
        default = parsers[name].get_default(dest)
        assert default == CONFIG[key], f"mislabel {name} --{dest.replace('_', '-')} vs {key}"


def test_a_rule_builds_the_settings_from_the_config_and_checks_them():
    from mislabel.settings import from_config

    config = {**CONFIG, "full_damping": 3, "damping": 0.5}
    built = from_config(CurvatureSettings, config)
    assert isinstance(built, CurvatureSettings)
    assert built.full_damping == 3.0 and isinstance(built.full_damping, float)
    assert built.damping_for("full") == 3.0 and built.damping_for("last_layer") == 0.5
    assert from_config(TrainConfig, CONFIG) == TrainConfig()
    with pytest.raises(ValueError, match="full_damping=0"):
        from_config(CurvatureSettings, {**CONFIG, "full_damping": 0})


def test_the_real_errors_config_takes_the_settings_defaults():
    """config.yaml leaves real_errors off (null); configs/mnist_real_errors.yaml sets every
    field of `RealErrorsSettings`, each at the library's default."""
    from mislabel.settings import RealErrorsSettings, from_config

    assert CONFIG["real_errors"] is None
    layered = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "configs" / "mnist_real_errors.yaml").read_text()
    )
    assert from_config(RealErrorsSettings, layered["real_errors"]) == RealErrorsSettings()
