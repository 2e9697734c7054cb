"""The README's library example runs as printed, on real MNIST, and prints what it says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def library_example() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("```python\n", text.index("## Using the library")) + len("```python\n")
    return text[start : text.index("\n```", start)]


@pytest.mark.slow
def test_the_library_example_runs_and_prints_its_comments(tmp_path):
    code = library_example()
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    said_auc = float(re.search(r"# roc_auc ([0-9.]+)", code).group(1))
    said_acc = float(re.search(r"# ([0-9.]+) \(before", code).group(1))
    auc = float(re.search(r"'roc_auc': ([0-9.]+)", proc.stdout).group(1))
    acc = float(re.search(r"after SSSE: ([0-9.]+)", proc.stdout).group(1))
    assert auc == pytest.approx(said_auc, abs=2e-3) and acc == pytest.approx(said_acc, abs=2e-3)
