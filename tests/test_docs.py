"""The code in the README and docs/ runs as printed, or says why not; the README links
only to documents that exist.

Every fenced `python` or `bash` block is either run by a test (the library example and the
command-line walkthrough of docs/usage.md, the README's repair of a model trained
elsewhere, the features snippet of docs/workflow.md in tests/test_workflow_features.py) or
preceded by a line `<!-- not run: <reason> -->`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def block_after(doc: str, heading: str, language: str) -> str:
    """The first `language` block after `heading` in `doc` (a path under the repository)."""
    text = (REPO / doc).read_text()
    fence = f"```{language}\n"
    start = text.index(fence, text.index(heading)) + len(fence)
    return text[start : text.index("\n```", start)]


def library_example() -> str:
    return block_after("docs/usage.md", "## Using the library", "python")


def code_blocks(path: Path) -> list[tuple[str, str]]:
    """(the line before, the code) of every fenced block with a language in `path`."""
    lines, blocks = path.read_text().splitlines(), []
    for i, line in enumerate(lines):
        if re.fullmatch(r"```[a-z]+", line):
            end = lines.index("```", i + 1)
            blocks.append((lines[i - 1] if i else "", "\n".join(lines[i + 1 : end])))
    return blocks


def test_every_code_block_runs_in_a_test_or_says_why_not():
    from tests.test_workflow_features import features_snippet

    run = {
        library_example(),
        cli_walkthrough(),
        readme_repair_head(),
        features_snippet(),
        own_probs_library(),
        own_probs_command(),
    }
    unaccounted = [
        f"{doc.relative_to(REPO)}: {code.splitlines()[0]}"
        for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
        for before, code in code_blocks(doc)
        if code not in run and not re.fullmatch(r"<!-- not run: .+ -->", before)
    ]
    assert unaccounted == []


def cli_walkthrough() -> str:
    return block_after("docs/usage.md", "## Using the command line", "bash")


def readme_repair_head() -> str:
    return block_after("README.md", "## Your own model", "bash")


@pytest.mark.slow
def test_the_command_line_walkthrough_runs(tmp_path):
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", cli_walkthrough()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    evaluation = (tmp_path / "run" / "evaluation.csv").read_text().splitlines()
    assert evaluation[0].startswith("dataset,") and len(evaluation) == 3  # pretrained, ssse


@pytest.mark.slow
def test_the_readme_repairs_a_model_trained_elsewhere(tmp_path):
    import numpy as np

    from benchmarks.repair_safety import planted_digits

    d = planted_digits(0.1, 0)
    np.save(tmp_path / "features.npy", d.x_train)
    np.save(tmp_path / "labels.npy", d.y_noisy)
    np.save(tmp_path / "holdout_features.npy", d.x_test)
    np.save(tmp_path / "holdout_labels.npy", d.y_test)
    np.savez(tmp_path / "head.npz", W=d.W, b=d.b)
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_repair_head()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    with np.load(tmp_path / "repaired.npz") as head:
        assert head["W"].shape == (64, 10) and head["b"].shape == (10,)
    assert (tmp_path / "report" / "flagged.csv").is_file()
    assert "the given holdout" in (tmp_path / "report" / "summary.json").read_text()


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


def own_probs_library() -> str:
    return block_after("docs/usage.md", "## Bring your own probabilities", "python")


def own_probs_command() -> str:
    return block_after("docs/usage.md", "## Bring your own probabilities", "bash")


def test_bring_your_own_probabilities_runs(tmp_path):
    """The library snippet saves the arrays the command then reads; both run as printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}

    def python(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    run = python("-c", own_probs_library())
    assert "of the 40 planted" in run.stdout
    command = own_probs_command().replace("\\\n", " ").split()
    assert command[0] == "mislabel"
    python("-m", "mislabel", *command[1:])
    files = sorted(p.name for p in (tmp_path / "issues").iterdir())
    assert files == ["flagged.csv", "flagged.png", "summary.json"]
