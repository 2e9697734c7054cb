"""House style is part of the build: ruff and snakefmt clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)


def ruff() -> str | None:
    beside = Path(sys.executable).with_name("ruff")
    return str(beside) if beside.exists() else shutil.which("ruff")


@pytest.mark.skipif(ruff() is None, reason="ruff not installed")
def test_ruff_is_clean():
    paths = [p for p in ("src", "tests", "workflow", "benchmarks") if (REPO / p).exists()]
    proc = run(ruff(), "check", *paths)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakefmt_is_clean():
    proc = run(sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow")
    assert proc.returncode == 0, proc.stdout + proc.stderr
