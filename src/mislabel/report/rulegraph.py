"""Figure 1.1: the method's stages, drawn from the workflow's own rule graph.

Only the rules of the method (`METHOD_STAGES`) are drawn, not the bookkeeping (`all`,
`record_config`, the aggregation and rendering rules).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from mislabel.files.atomic import atomic_path

# The rules that are the method's stages, in the order they run.
METHOD_STAGES = ("fetch_dataset", "inject_noise", "train", "score", "unlearn", "evaluate")
_NODE_RE = re.compile(r'^\s*(\d+)\[label = "([^"]+)"')
_EDGE_RE = re.compile(r"^\s*(\d+) -> (\d+)\s*$")


def keep_rules(dot: str, rules: tuple[str, ...] = METHOD_STAGES) -> str:
    """The DOT text `dot` of a rule graph with only the nodes of `rules` and the edges
    between them. Raises ValueError if one of `rules` is not in the graph."""
    kept, lines = {}, []
    for line in dot.splitlines():
        node, edge = _NODE_RE.match(line), _EDGE_RE.match(line)
        if node:
            if node.group(2) in rules:
                kept[node.group(1)] = node.group(2)
                lines.append(line)
        elif edge:
            if edge.group(1) in kept and edge.group(2) in kept:
                lines.append(line)
        else:
            lines.append(line)
    missing = [rule for rule in rules if rule not in kept.values()]
    if missing:
        raise ValueError(f"the rule graph lacks the rules {missing}")
    return "\n".join(lines) + "\n"


def rulegraph_dot(snakefile: str | os.PathLike) -> str:
    """The DOT text of `snakemake --rulegraph` for `snakefile` (run in the current folder)."""
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(snakefile),
        "--rulegraph",
        "--nolock",
        "--cores",
        "1",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    start = proc.stdout.find("digraph")
    if proc.returncode != 0 or start < 0:
        raise RuntimeError(
            f"snakemake --rulegraph failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
        )
    return proc.stdout[start:]


def render_rulegraph(
    snakefile: str | os.PathLike,
    out_pdf: str | os.PathLike,
    log: Callable[[str], None] = print,
    out_png: str | os.PathLike | None = None,
) -> Path:
    """Render the rule graph to PDF (and, given `out_png`, to a 150 dpi PNG) with
    Graphviz's `dot` (Debian package graphviz)."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "Graphviz `dot` is not on PATH; install it (Debian: apt-get install "
            "graphviz) to draw Figure 1.1"
        )
    text = keep_rules(rulegraph_dot(snakefile))
    log(f"the method's {len(METHOD_STAGES)} stages, {text.count('->')} edges between them")
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0")}
    outputs = [(out_pdf, ["-Tpdf"])] + ([(out_png, ["-Tpng", "-Gdpi=150"])] if out_png else [])
    for out, how in outputs:
        with atomic_path(out) as tmp:
            command = [dot, *how, "-o", str(tmp)]
            subprocess.run(command, input=text, text=True, check=True, env=env)
    return Path(out_pdf)
