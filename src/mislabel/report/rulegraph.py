"""Figure 1.1: the method's overview, drawn as the workflow's own rule graph."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from mislabel.files.atomic import atomic_path


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
    snakefile: str | os.PathLike, out_pdf: str | os.PathLike, log: Callable[[str], None] = print
) -> Path:
    """Render the rule graph to PDF with Graphviz's `dot` (Debian package graphviz)."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "Graphviz `dot` is not on PATH; install it (Debian: apt-get install "
            "graphviz) to draw Figure 1.1"
        )
    text = rulegraph_dot(snakefile)
    log(f"rule graph with {text.count('->')} edges")
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0")}
    with atomic_path(out_pdf) as tmp:
        subprocess.run([dot, "-Tpdf", "-o", str(tmp)], input=text, text=True, check=True, env=env)
    return Path(out_pdf)
