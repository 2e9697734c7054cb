"""What a `mislabel` process pays before (and after) its science, phase by phase.

    .venv/bin/python benchmarks/startup.py [--baseline REV] [--repeats 3]
        [--out benchmarks/startup.md]

Every measurement is its own Python process, started the way the `mislabel` program starts
(`sys.argv` set, `mislabel.cli.main()`), through a small probe that records, with one
clock (`time.time`):

- **interpreter**: from spawning the process to the probe's first line (exec, Python's
  start-up, `site`);
- **imports**: every import of a module not loaded yet, timed at the outermost
  `importlib._bootstrap._find_and_load` (so an import made while lowering, such as SciPy's
  BLAS pulled in by jaxlib's LAPACK kernels, counts here, not as lowering);
- **tracing**, **lowering** and **compile / cache load**: JAX's own time spans
  (`jax.monitoring.register_event_time_span_listener`: `jaxpr_trace_duration`,
  `jaxpr_to_mlir_module_duration`, `backend_compile_duration`, the last one including
  the cache key and a persistent-cache read);
- **science**: the rest of the call (reading inputs, computing, writing outputs);
- **exit**: from the command's return (or its `os._exit`) until the parent sees the
  process end (interpreter teardown, JAX's clean-up).

A moment that belongs to several phases is counted once, in the first of: imports,
compile, lowering, tracing. Each call runs once with an empty compilation cache (cold)
and then `--repeats` times with the cache that run filled (warm); the table shows the run
of median wall time. Calls run on the paper's problem (MNIST 0 vs 1, 1000 per class,
r = 0.05) in a temporary folder. With `--baseline REV` the same calls also run on the
source tree of git revision REV (exported with `git archive`), side by side: the two
trees take turns, run by run, so that the other work on a shared machine weighs on both
alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import fmt_s, machine_info, md_table, tree_state

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RATIO = 0.05
MNIST_CANDIDATES = (ROOT / "results/data/mnist.npz", Path("/tmp/golden/results/data/mnist.npz"))

PROBE = r"""
import time
T0 = time.time()
import importlib._bootstrap as _bootstrap
import json, os, sys

_imports, _spans, _events, _state = [], [], {}, {"depth": 0, "listening": False}
_find_and_load = _bootstrap._find_and_load


def _listen():
    if _state["listening"] or "jax.monitoring" not in sys.modules:
        return
    _state["listening"] = True
    monitoring = sys.modules["jax.monitoring"]
    monitoring.register_event_time_span_listener(
        lambda event, start, end, **_: _spans.append((event, start, end))
    )
    monitoring.register_event_listener(
        lambda event, **_: _events.__setitem__(event, _events.get(event, 0) + 1)
    )


def _timed_find_and_load(name, import_):
    if _state["depth"]:
        return _find_and_load(name, import_)
    _state["depth"] = 1
    start = time.time()
    try:
        return _find_and_load(name, import_)
    finally:
        _imports.append((start, time.time()))
        _state["depth"] = 0
        _listen()


_bootstrap._find_and_load = _timed_find_and_load


def _dump(code):
    end = time.time()
    record = {"t0": T0, "t_end": end, "code": code, "imports": _imports, "spans": _spans,
              "events": _events}
    with open(os.environ["STARTUP_PROBE_OUT"], "w") as fh:
        json.dump(record, fh)


mode, args = sys.argv[1], sys.argv[2:]
if mode == "import":
    for name in args:
        __import__(name)
    _dump(0)
elif mode == "none":
    _dump(0)
else:  # the mislabel program: console script semantics, main() on sys.argv
    real_exit = os._exit

    def _exit(code):
        _dump(code)
        real_exit(code)

    os._exit = _exit
    from mislabel.cli import main

    sys.argv = ["mislabel", *args]
    code = main()
    _dump(code)
    sys.exit(code)
"""

PHASES = ("interpreter", "imports", "tracing", "lowering", "compile", "science", "exit")
SPAN_PHASE = {
    "/jax/core/compile/backend_compile_duration": "compile",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lowering",
    "/jax/core/compile/jaxpr_trace_duration": "tracing",
}
PRIORITY = ("imports", "compile", "lowering", "tracing")  # who owns an overlapping moment


def split_phases(record: dict) -> dict[str, float]:
    """Seconds of each in-process phase in [t0, t_end], overlaps counted once (`PRIORITY`)."""
    lo, hi = record["t0"], record["t_end"]
    marks = [(s, 1, "imports") for s, _ in record["imports"]]
    marks += [(e, -1, "imports") for _, e in record["imports"]]
    for event, s, e in record["spans"]:
        if event in SPAN_PHASE:
            marks += [(s, 1, SPAN_PHASE[event]), (e, -1, SPAN_PHASE[event])]
    marks.sort(key=lambda m: (m[0], -m[1]))
    out = dict.fromkeys(("imports", "tracing", "lowering", "compile", "science"), 0.0)
    active = dict.fromkeys(PRIORITY, 0)
    last = lo
    for t, step, phase in [*marks, (hi, 0, None)]:
        t = min(max(t, lo), hi)
        if t > last:
            owner = next((p for p in PRIORITY if active[p] > 0), "science")
            out[owner] += t - last
            last = t
        if phase is not None:
            active[phase] += step
    return out


def run_probe(probe: Path, argv: list[str], env: dict, cwd: Path) -> dict:
    """One probed process: wall time and its phases (seconds)."""
    out = cwd / "probe.json"
    out.unlink(missing_ok=True)
    start = time.time()
    done = subprocess.run(
        [PYTHON, str(probe), *argv],
        env={**env, "STARTUP_PROBE_OUT": str(out)},
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    finish = time.time()
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"{argv} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    record = json.loads(out.read_text())
    phases = split_phases(record)
    phases["interpreter"] = record["t0"] - start
    phases["exit"] = finish - record["t_end"]
    events = record["events"]
    return {
        "wall": finish - start,
        **phases,
        "programs": sum(1 for s in record["spans"] if SPAN_PHASE.get(s[0]) == "compile"),
        "hits": events.get("/jax/compilation_cache/cache_hits", 0),
    }


def calls(work: Path, mnist: Path) -> list[tuple[str, list[str]]]:
    """(label, probe arguments) of every measured process, in pipeline order."""
    run = work / "run"
    ds, model = run / "noisy.npz", run / "model.msgpack"
    return [
        ("bare python", ["none"]),
        ("import jax", ["import", "jax"]),
        ("import flax.linen", ["import", "flax.linen"]),
        ("import optax", ["import", "optax"]),
        ("import mislabel.cli", ["import", "mislabel.cli"]),
        (
            "Snakemake's script preamble (its imports)",
            ["import", "pickle", "snakemake.logging", "snakemake.iocontainers"],
        ),
        ("mislabel --help", ["cli", "--help"]),
        ("mislabel fetch", ["cli", "fetch", "-q", "--out-dir", "{fresh}"]),
        (
            f"mislabel noise (r = {RATIO})",
            ["cli", "noise", "-q", "--raw", str(mnist), "--ratio", str(RATIO), "--out", str(ds)],
        ),
        (
            "mislabel train",
            ["cli", "train", "-q", "--data", str(ds), "--out", str(model)]
            + ["--history", str(run / "history.npz")],
        ),
        *[
            (
                f"mislabel score --detector {det}",
                ["cli", "score", "-q", "--data", str(ds), "--model", str(model)]
                + ["--detector", det, "--out", str(run / f"scores_{det}.npz")]
                + ["--info", str(run / f"detection_{det}.json")],
            )
            for det in ("loss", "if_self")
        ],
        (
            "mislabel unlearn --unlearner influence",
            ["cli", "unlearn", "-q", "--data", str(ds), "--model", str(model)]
            + ["--unlearner", "influence", "--target", "detected"]
            + ["--scores", str(run / "scores_loss.npz"), "--out", str(run / "influence.msgpack")]
            + ["--info", str(run / "influence.json")],
        ),
        (
            "mislabel evaluate",
            ["cli", "evaluate", "-q", "--data", str(ds), "--pretrained", str(model)]
            + ["--unlearned", str(run / "influence.msgpack"), str(run / "influence.json")]
            + ["--out", str(run / "evaluation.csv")],
        ),
    ]


class Variant:
    """One source tree under test: its environment and its own working folder."""

    def __init__(self, name: str, src: Path, work: Path, mnist: Path) -> None:
        self.name, self.work = name, work
        work.mkdir(parents=True)
        self.probe = work / "probe.py"
        self.probe.write_text(PROBE)
        skip = ("JAX_", "XLA_", "MISLABEL_")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
        self.env.update(PYTHONPATH=str(src), XDG_CACHE_HOME=str(work / "xdg"))
        self.env.pop("MNIST_DIR", None)
        self.calls = calls(work, mnist)
        self.fresh = 0

    def run(self, index: int) -> dict:
        """Call number `index`, with the cache folder of that call (empty the first time)."""
        label, argv = self.calls[index]
        self.fresh += 1
        concrete = [a.replace("{fresh}", str(self.work / f"data{self.fresh}")) for a in argv]
        cache = self.work / "jax_cache" / f"call{index}"
        return run_probe(
            self.probe, concrete, {**self.env, "JAX_COMPILATION_CACHE_DIR": str(cache)}, self.work
        )


def measure(variants: list[Variant], repeats: int) -> dict[str, list[dict]]:
    """Every call, cold then `repeats` times warm, the variants interleaved run by run (so
    a change in the machine's load hits them alike)."""
    rows: dict[str, list[dict]] = {v.name: [] for v in variants}
    for index, (label, _) in enumerate(variants[0].calls):
        runs = {v.name: [] for v in variants}
        for _ in range(1 + repeats):
            for v in variants:
                runs[v.name].append(v.run(index))
        line = []
        for v in variants:
            cold, warm_runs = runs[v.name][0], runs[v.name][1:]
            walls = [r["wall"] for r in warm_runs]
            warm = sorted(warm_runs, key=lambda r: r["wall"])[len(warm_runs) // 2]
            rows[v.name].append({"label": label, "cold": cold, "warm": warm, "warm_walls": walls})
            line.append(f"{v.name}: cold {cold['wall']:.2f} s, warm {warm['wall']:.2f} s")
        print(f"  {label}: " + "; ".join(line), flush=True)
    return rows


def phase_table(rows: list[dict]) -> str:
    headers = ["call", "cache", "wall", *PHASES, "programs (cache hits)"]
    body = []
    for row in rows:
        for kind in ("cold", "warm"):
            r = row[kind]
            wall = fmt_s(r["wall"])
            if kind == "warm" and len(row["warm_walls"]) > 1:
                wall += f" (min {fmt_s(min(row['warm_walls']))})"
            programs = f"{r['programs']} ({r['hits']})" if r["programs"] else "-"
            body.append(
                [row["label"], kind, f"**{wall}**", *(fmt_s(r[p]) for p in PHASES), programs]
            )
    return md_table(headers, body)


def comparison(before: list[dict], after: list[dict]) -> str:
    """Wall time of each call before and after; warm: median (min) of the warm runs."""
    headers = ["call", "before: cold", "before: warm", "after: cold", "after: warm", "speed-up"]

    def warm(row: dict) -> str:
        return f"{fmt_s(row['warm']['wall'])} ({fmt_s(min(row['warm_walls']))})"

    body = []
    for b, a in zip(before, after, strict=True):
        speedup = b["warm"]["wall"] / a["warm"]["wall"]
        body.append(
            [a["label"], fmt_s(b["cold"]["wall"]), warm(b), fmt_s(a["cold"]["wall"]), warm(a)]
            + [f"{speedup:.1f}x"]
        )
    return md_table(headers, body)


def find_mnist(work: Path) -> Path:
    """A fetched mnist.npz: an existing one, else `mislabel fetch` into `work`."""
    for path in MNIST_CANDIDATES:
        if path.is_file():
            return path
    subprocess.run(
        [PYTHON, "-m", "mislabel", "fetch", "-q", "--out-dir", str(work / "mnist")], check=True
    )
    return work / "mnist" / "mnist.npz"


def export_revision(rev: str, dest: Path) -> Path:
    """`git archive` of `rev` unpacked into `dest`; returns its src/ folder."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(dest / "src")], check=True)
    return dest / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per call")
    parser.add_argument("--baseline", help="also measure this git revision (e.g. HEAD)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "startup.md"))
    args = parser.parse_args()
    command = "python benchmarks/startup.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    started = time.time()
    info = machine_info()
    with tempfile.TemporaryDirectory(prefix="mislabel-startup-") as tmp:
        tmp = Path(tmp)
        mnist = find_mnist(tmp)
        variants = []
        if args.baseline:
            src = export_revision(args.baseline, tmp / "baseline")
            variants.append(Variant("before", src, tmp / "before", mnist))
        variants.append(Variant("after", ROOT / "src", tmp / "after", mnist))
        rows = measure(variants, args.repeats)
    after, baseline = rows["after"], rows.get("before")
    minutes = (time.time() - started) / 60
    parts = [
        "# Start-up cost of a `mislabel` process",
        f"Produced by `{command}` in {minutes:.1f} min ({tree_state(str(ROOT))}).",
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()) + ".",
        __doc__.split("\n\n", 2)[2].strip(),
    ]
    if baseline is not None:
        parts += [
            f"## Wall time per call, before ({args.baseline}) and after (this tree)",
            "Warm: median (min) of the warm runs; speed-up: of the warm medians.",
            comparison(baseline, after),
        ]
    parts += ["## This tree, phase by phase", phase_table(after)]
    if baseline is not None:
        parts += [f"## Before ({args.baseline}), phase by phase", phase_table(baseline)]
    Path(args.out).write_text("\n\n".join(parts) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
