"""Small helpers for `benchmarks/run.py`: repeated timings, child processes, Markdown output."""

from __future__ import annotations

import hashlib
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Timing:
    """Seconds of a first call (compile + run, if any) and of the steady-state calls."""

    first: float | None = None
    runs: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def min(self) -> float:
        return min(self.runs)

    def steady(self) -> str:
        """``median (min)`` of the steady-state runs, for a table cell."""
        return f"{fmt_s(self.median)} (min {fmt_s(self.min)}, n={len(self.runs)})"


def time_calls(fn: Callable[[], Any], repeats: int, first: bool = True) -> Timing:
    """Time `fn()` (which must block until its result is ready): once as the first call if
    `first`, then `repeats` more times as steady state."""
    timing = Timing()
    if first:
        start = time.perf_counter()
        fn()
        timing.first = time.perf_counter() - start
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        timing.runs.append(time.perf_counter() - start)
    return timing


@dataclass
class ProcessRun:
    """One child process: wall time from start to exit, exit status, output."""

    seconds: float
    returncode: int
    output: str


def run_process(argv: Sequence[str], env: dict | None = None, cwd: str | None = None) -> ProcessRun:
    """Run `argv` to completion (stdout and stderr together); wall seconds start to exit.

    (Peak memory is not taken from `os.wait4` here: a child spawned by this large process
    inherits its peak RSS on Linux. Jobs report their own `VmHWM` instead.)
    """
    start = time.perf_counter()
    done = subprocess.run(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return ProcessRun(time.perf_counter() - start, done.returncode, done.stdout)


def clean_env(**extra: str) -> dict:
    """This environment without JAX cache settings (so each benchmark picks its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def machine_info() -> dict[str, str]:
    """CPU, OS, Python and JAX versions, JAX's devices, and the load when the run started."""
    import jax
    import jaxlib

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if "model name" in line)
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cpu count": f"{os.cpu_count()} (usable {len(os.sched_getaffinity(0))})",
        "load average (1, 5, 15 min) at start": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "jax / jaxlib": f"{jax.__version__} / {jaxlib.__version__}",
        "jax backend": f"{jax.default_backend()} ({', '.join(str(d) for d in jax.devices())})",
    }


def code_digest(root: str) -> str:
    """SHA-256 (12 hex digits) of the measured code: src/, workflow/, Snakefile, config.yaml."""
    base = Path(root)
    files = [base / "Snakefile", base / "config.yaml"]
    files += sorted(p for d in ("src", "workflow") for p in (base / d).rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in files:
        if "__pycache__" not in path.parts and path.exists():
            digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def tree_state(root: str) -> str:
    """Git commit, uncommitted files under src/ and workflow/ (read-only git), code digest."""
    git = ["git", "--no-optional-locks", "-C", root]
    try:
        log = [*git, "log", "-1", "--format=%h %cI"]
        commit = subprocess.run(log, capture_output=True, text=True, check=True).stdout.strip()
        status = [*git, "status", "--porcelain", "--", "src", "workflow"]
        dirty = subprocess.run(status, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", ""
    changed = [line[3:] for line in dirty.splitlines() if line.strip()]
    extra = f", uncommitted: {', '.join(changed)}" if changed else ""
    return f"commit {commit}{extra}; code digest {code_digest(root)}"


def fmt_s(seconds: float | None) -> str:
    """Seconds for a table: 3 significant digits, minutes above 100 s."""
    if seconds is None:
        return "-"
    if seconds >= 100:
        return f"{seconds:.0f} s ({seconds / 60:.1f} min)"
    return f"{seconds:.3g} s"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
