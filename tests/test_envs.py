"""Environments: the exact pins of constraints.txt, the ranges of pyproject.toml, and the
conda environment of `--sdm conda`, which must work where Snakemake copies it and with the
package not installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from tests.test_workflow import REPO, TINY, copy_workflow

ENV = REPO / "envs" / "mislabel.yaml"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def constraints() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonical(name)] = version
    return pins


def requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in project["dependencies"] + extras["workflow"]]


def env_pip(path: Path) -> list[str]:
    env = yaml.safe_load(path.read_text())
    pip = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, f"{path} needs exactly one pip: section"
    return pip[0]["pip"]


def test_constraints_pin_every_requirement_within_its_range():
    pins = constraints()
    for req in requirements():
        assert canonical(req.name) in pins, f"constraints.txt lacks {req.name}"
        assert req.specifier.contains(pins[canonical(req.name)]), (req, pins[req.name])
        assert "==" not in str(req.specifier), f"pyproject pins {req}; give a range"


def test_the_environment_is_the_one_constraints_txt_pins():
    pins = constraints()
    for req in requirements():
        assert metadata.version(req.name) == pins[canonical(req.name)], req.name


def test_conda_env_pins_the_constraints_of_every_requirement():
    pins = constraints()
    listed = {}
    for entry in env_pip(ENV):
        name, version = entry.split("==")
        listed[canonical(name)] = version
    assert listed == {canonical(r.name): pins[canonical(r.name)] for r in requirements()}


def test_conda_env_is_self_contained_where_snakemake_copies_it(tmp_path):
    # Snakemake writes the env file's content to .snakemake/conda/<hash>.yaml and creates
    # the environment from there, so nothing in it may point at a path.
    copied = tmp_path / ".snakemake" / "conda" / "0123abcd.yaml"
    copied.parent.mkdir(parents=True)
    shutil.copy(ENV, copied)
    env = yaml.safe_load(copied.read_text())
    entries = [d for d in env["dependencies"] if isinstance(d, str)] + env_pip(copied)
    for entry in entries:
        assert not entry.startswith("-"), entry  # no -e/--editable/-r/-c
        assert not re.search(r"(^|[\s=@])(\.|/|~|file:)", entry), entry
        assert re.fullmatch(r"[A-Za-z0-9_.-]+([=<>!]=?[0-9A-Za-z.*]+)?", entry), entry
    assert "python=3.11" in env["dependencies"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"


def test_every_rule_uses_the_env():
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        text = smk.read_text()
        rules = re.findall(r"^rule \w+:", text, flags=re.M)
        assert len(rules) == text.count("conda:\n        ENV"), smk.name


BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"numpy", "jax", "pandas", "scipy"}:
            raise ImportError(f"{name} is blocked")
sys.meta_path.insert(0, Block())
"""


def test_the_config_check_needs_no_numpy():
    code = BLOCK + (
        "import yaml\n"
        "from mislabel.workflow import config as wc\n"
        f"config = yaml.safe_load(open({str(REPO / 'config.yaml')!r}))\n"
        "wc.coerce_numbers(config); wc.check(config)\n"
        "print(len(wc.paper_files(config['detectors'])), wc.wildcard_constraints()['dataset'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "fashion_mnist|mnist|features" in proc.stdout


@pytest.mark.slow
def test_the_workflow_imports_the_package_from_src_when_it_is_not_installed(tmp_path):
    # A Python with every dependency but not the package: the project's site-packages as
    # a plain path entry, so its .pth files (the editable install) are not read.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = subprocess.run([python, "-c", "import mislabel"], capture_output=True, text=True)
    assert probe.returncode != 0 and "No module named 'mislabel'" in probe.stderr
    (tmp_path / "work").mkdir()
    workdir = copy_workflow(tmp_path / "work")
    shutil.copytree(REPO / "src", workdir / "src", ignore=shutil.ignore_patterns("__pycache__"))
    target = "results/mnist/r0.3/s0/noisy.npz"
    proc = subprocess.run(
        [python, "-m", "snakemake", target, "--cores", "2", "--configfile", str(TINY)],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert (workdir / target).is_file()
