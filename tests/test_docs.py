"""The library example of docs/usage.md runs as printed, on real MNIST, and prints what it
says; the README links only to documents that exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def library_example() -> str:
    text = (REPO / "docs" / "usage.md").read_text()
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


def test_the_readme_is_a_quick_start_and_every_relative_link_exists():
    assert len((REPO / "README.md").read_text().splitlines()) <= 200
    broken = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        links = re.findall(r"\]\(([^)#:]+)\)", doc.read_text())
        broken += [f"{doc.name}: {link}" for link in links if not (doc.parent / link).exists()]
    assert broken == []
