"""The package's architecture, enforced: the layers of pyproject.toml (import-linter), no
import cycles between modules, no module over 600 lines, and few top-level modules (the
rest live in packages by topic)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[1]
MAX_LINES = 600
MAX_TOP_LEVEL = 15  # modules directly in src/mislabel, __init__ and __main__ included


def test_every_module_imports_only_from_lower_layers():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def find_cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import cycle between modules of the graph (depth-first search), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(imported) == 1:
                return path[path.index(imported) :] + [imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        state[module] = 2
        path.pop()
        return None

    for module in sorted(graph.modules):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_no_import_cycles():
    assert find_cycle(grimp.build_graph("mislabel")) is None


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = grimp.ImportGraph()
    for module in ("p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    assert find_cycle(graph) is None
    graph.add_import(importer="p.c", imported="p.a")
    assert find_cycle(graph) == ["p.a", "p.b", "p.c", "p.a"]


def test_no_module_is_over_600_lines():
    sizes = {
        str(path.relative_to(REPO)): len(path.read_text().splitlines())
        for path in sorted((REPO / "src" / "mislabel").rglob("*.py"))
    }
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}


def test_few_modules_sit_at_the_top_level():
    top = sorted(p.name for p in (REPO / "src" / "mislabel").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top
