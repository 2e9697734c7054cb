"""Tests for the mislabel.report package: its entry points and its place in the layers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import mislabel.report

REPORT = Path(mislabel.report.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports (absolute names)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_report_does_not_import_jax() -> None:
    code = "import sys, mislabel.report; assert 'jax' not in sys.modules, 'jax imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_report_sits_below_stages_and_cli() -> None:
    for path in REPORT.glob("*.py"):
        above = [
            name
            for name in imported_modules(path)
            if name.startswith(("mislabel.stages", "mislabel.cli"))
        ]
        assert not above, f"{path.name} imports {above}"


def test_entry_points_the_workflow_calls() -> None:
    from mislabel.report.curves import render_curves
    from mislabel.report.extensions import render_extensions
    from mislabel.report.histograms import render_histograms
    from mislabel.report.tables import render_tables

    assert mislabel.report.render_tables is render_tables
    assert mislabel.report.render_extensions is render_extensions
    assert mislabel.report.render_histograms is render_histograms
    assert mislabel.report.render_curves is render_curves
    scripts = Path(__file__).resolve().parents[1] / "workflow" / "scripts"
    for name in ("tables", "extensions", "histograms", "curves"):
        modules = imported_modules(scripts / f"render_{name}.py")
        assert f"mislabel.report.{name}" in modules, name
