"""The conda environment for `--sdm conda` agrees with the pip requirements."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def pip_pins_of_env(path: Path) -> set[str]:
    env = yaml.safe_load(path.read_text())
    pip = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, f"{path} needs exactly one pip: section"
    return {req.replace(" ", "") for req in pip[0]["pip"] if not req.startswith("-")}


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["workflow"]
    return {r.replace(" ", "") for r in reqs}


def test_conda_env_pins_equal_pyproject():
    assert pip_pins_of_env(REPO / "envs" / "mislabel.yaml") == pyproject_requirements()


def test_conda_env_python_matches_requires_python():
    env = yaml.safe_load((REPO / "envs" / "mislabel.yaml").read_text())
    assert "python=3.11" in env["dependencies"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"].startswith(">=3.11")


def test_every_rule_uses_the_env():
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        text = smk.read_text()
        rules = re.findall(r"^rule \w+:", text, flags=re.M)
        assert len(rules) == text.count("conda:\n        ENV"), smk.name
