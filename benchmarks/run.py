"""Per-stage timings of `mislabel` on the paper's problem, next to the performance targets.

    python benchmarks/run.py [--quick] [--out benchmarks/results.md]

The whole workflow's wall time, cold and warm, and the cost of more seeds: benchmarks/workflow.py.

The problem: MNIST 0 vs 1, 1000 training images per class, symmetric noise r = 0.2, MLP
784-50-50-2, SGD lr 0.01, momentum 0.9, batch 32, 20 epochs. "first" is the first call in
this process (JIT compilation + run); "steady" is the median (and min) of later calls, each
blocked until its result is ready. Job timings run each stage as its own Python process,
as Snakemake does, with an empty and then a warm persistent JAX compilation cache.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import (
    Timing,
    clean_env,
    code_digest,
    fmt_s,
    machine_info,
    md_table,
    run_process,
    time_calls,
    tree_state,
)

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RATIO = 0.2
HIDDEN = (50, 50)
PAPER = {"lr": 0.01, "momentum": 0.9, "batch_size": 32, "epochs": 20}
NOISY = {"classes": [0, 1], "train_per_class": 1000, "subset": "first", "noise_mode": "symmetric"}
MIB_LIMIT = 1024


class Report:
    """Markdown sections, printed as they come; the target table goes first in the file."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.targets: list[tuple[str, str, str, bool | None]] = []

    def add(self, text: str) -> None:
        print(text + "\n", flush=True)
        self.parts.append(text)

    def target(self, what: str, limit: str, measured: str, ok: bool | None) -> None:
        self.targets.append((what, limit, measured, ok))

    def target_table(self) -> str:
        status = {True: "PASS", False: "**MISS**", None: "not measured"}
        rows = [(w, lim, m, status[ok]) for w, lim, m, ok in self.targets]
        return md_table(["target", "limit", "measured", "status"], rows)


# --------------------------------------------------------------------------- sections


def bench_imports(report: Report, repeats: int) -> None:
    """1. Start-to-exit time of `python -c STATEMENT` (interpreter start + imports)."""
    statements = [
        "pass",
        "import jax",
        "import flax.linen",
        "import optax",
        "import sklearn.metrics",
        "import mislabel.detect",
        "import mislabel.unlearn",
    ]
    rows = []
    for stmt in statements:
        times = [run_process([PYTHON, "-c", stmt], env=clean_env()).seconds for _ in range(repeats)]
        rows.append((f"`python -c '{stmt}'`", fmt_s(statistics.median(times)), fmt_s(min(times))))
    report.add(
        "## 1. Import time (separate processes)\n\n"
        + md_table(["command", "median", "min"], rows)
        + f"\n\n{repeats} runs each, start to exit (interpreter start, imports, and the "
        "interpreter's teardown of the imported modules)."
    )


def load_problem(cache_dir: str):
    """(x float32 (n, 784), noisy labels (n,), flipped mask (n,)) of the paper's problem."""
    from mislabel.data.sources import load_dataset
    from mislabel.data.subset import select_subset, to_float
    from mislabel.noise import inject_noise

    sub = select_subset(load_dataset("mnist", cache_dir), classes=[0, 1], train_per_class=1000)
    y_noisy, flipped = inject_noise(sub.y_train, n_classes=2, ratio=RATIO, seed=0)
    return to_float(sub.x_train), y_noisy, flipped


def bench_train(report: Report, model, x, y, repeats: int):
    """2. One paper model with `mislabel.network.train.train`; returns the trained state."""
    import jax

    from mislabel.network.train import train
    from mislabel.settings import TrainConfig

    out = {}

    def call() -> None:
        out["state"], _ = jax.block_until_ready(train(model, x, y, 0, TrainConfig(**PAPER)))

    t = time_calls(call, repeats)
    report.add(
        "## 2. Training one paper model (`mislabel.network.train.train`, 20 epochs, "
        "62 steps each)\n\n"
        + md_table(
            ["", "first call (compile + run)", "steady median (min)"],
            [("train", fmt_s(t.first), t.steady())],
        )
    )
    report.target(
        "training one paper model, after compilation", "<= 0.5 s", fmt_s(t.median), t.median <= 0.5
    )
    return out["state"]


def bench_detect(report: Report, model, params, x, y, repeats: int):
    """3. The four detectors with `anomaly_scores`; returns (scores, timing of all four)."""
    import numpy as np

    from mislabel.detect import score_detector
    from mislabel.detectors.influence import anomaly_scores
    from mislabel.registry import PAPER_DETECTORS
    from mislabel.settings import CurvatureSettings, TrainConfig

    out = {}

    def call(detectors) -> None:
        out["scores"], _ = anomaly_scores(model, params, x, y, detectors)

    rows, timings = [], {}
    for label, detectors in [
        ("all four together", PAPER_DETECTORS),
        ("loss only", ("loss",)),
        ("if_self only (one influence score job)", ("if_self",)),
    ]:
        timings[label] = time_calls(lambda d=detectors: call(d), repeats)
        rows.append((label, fmt_s(timings[label].first), timings[label].steady()))
        out.setdefault("all four", out["scores"])
    # Beyond the paper: each is one `score` job's work (`mislabel.detect.score_detector`).
    margins = np.zeros((PAPER["epochs"], len(y)))
    for label, detector in [
        (
            f"if_self_full (full network, top {CurvatureSettings().lanczos_rank} eigenpairs, "
            f"damping {CurvatureSettings().full_damping:g})",
            "if_self_full",
        ),
        ("aum (scores + threshold-sample training run)", "aum"),
        ("cleanlab (5 folds trained at once with vmap)", "cleanlab"),
    ]:
        t = time_calls(
            lambda d=detector: score_detector(
                d,
                model,
                params,
                x,
                y,
                train_config=TrainConfig(**PAPER),
                margin_ExN=margins,
                curvature=CurvatureSettings(),
            ),
            max(1, repeats // 2),
        )
        rows.append((label, fmt_s(t.first), t.steady()))
    report.add(
        f"## 3. Detection, n = {x.shape[0]} "
        "(`mislabel.detectors.influence.anomaly_scores`, float64)\n\n"
        + md_table(["detectors", "first call (compile + run)", "steady median (min)"], rows)
        + "\n\n'first' of the single-detector rows reuses the programs compiled for all four."
    )
    t = timings["all four together"]
    report.target(
        "all four detectors together, after compilation", "<= 1 s", fmt_s(t.median), t.median <= 1.0
    )
    return out["all four"], t


def bench_unlearn(report: Report, model, state, x, y, flipped, repeats: int) -> None:
    """4. The unlearners (`unlearn`), forgetting D_mislabeled."""
    from mislabel.registry import UNLEARNERS
    from mislabel.settings import TrainConfig
    from mislabel.unlearn import unlearn

    rows = []
    for unlearner in UNLEARNERS:
        t = time_calls(
            lambda m=unlearner: unlearn(
                m, model, state, x, y, flipped, seed=0, train_config=TrainConfig(**PAPER)
            ),
            repeats,
        )
        rows.append((unlearner, fmt_s(t.first), t.steady()))
        if unlearner in ("influence", "ssse"):
            report.target(
                f"{unlearner} update, after compilation",
                "<= 0.5 s",
                fmt_s(t.median),
                t.median <= 0.5,
            )
    report.add(
        f"## 4. Unlearning D_mislabeled (m = {int(flipped.sum())} of n = {flipped.size}; "
        "`mislabel.unlearn.unlearn`)\n\n"
        + md_table(["method", "first call (compile + run)", "steady median (min)"], rows)
        + "\n\n`retrain`'s first call reuses the training program `finetune` compiled "
        "(same shapes, same number of epochs)."
    )


def bench_naive(report: Report, model, params, x, y, fast_scores, fast: Timing, k: int) -> None:
    """5. The naive per-sample baseline on k samples, checked against ours, extrapolated."""
    from naive import DETECTORS, max_relative_error, naive_scores

    n = x.shape[0]
    # one warm-up sample (its eager ops compile), then k timed ones, spread over the set
    idx = np.linspace(0, n - 1, k + 1).round().astype(int)
    scores, seconds = naive_scores(model, params, x, y, idx)
    first, per_sample = seconds[0], statistics.median(seconds[1:])
    rows = []
    all_equal = True
    for d in DETECTORS:
        err = max_relative_error(scores[d], fast_scores[d][idx])
        all_equal &= err <= 1e-6
        rows.append((d, f"{err:.1e}", "yes" if err <= 1e-6 else "**NO**"))
    steady_total = n * per_sample
    cold_total = first + (n - 1) * per_sample
    ratio_steady = steady_total / fast.median
    ratio_cold = cold_total / fast.first
    table = [
        ("naive, first sample (eager op compilation + run)", fmt_s(first)),
        (f"naive, per sample (median of {k}; min {fmt_s(min(seconds[1:]))})", fmt_s(per_sample)),
        (f"naive, all n = {n}, steady: n x per sample (**extrapolated**)", fmt_s(steady_total)),
        (f"naive, all n = {n}, first + (n-1) x per sample (**extrapolated**)", fmt_s(cold_total)),
        ("ours, all four detectors, steady median", fmt_s(fast.median)),
        ("ours, all four detectors, first call (compile + run)", fmt_s(fast.first)),
        ("**naive / ours, steady state**", f"**{ratio_steady:,.0f}x**"),
        ("naive / ours, both including compilation", f"{ratio_cold:,.0f}x"),
    ]
    report.add(
        "## 5. Naive per-sample baseline (`benchmarks/naive.py`), same work\n\n"
        "For each sample: `jax.hessian` of the mean training loss w.r.t. the last kernel "
        "(eager, recomputed per sample as the authors' code), `numpy.linalg.pinv` "
        "(rcond 1e-10), the sample's gradient, the gradients over D and D \\ {z}, four scores; "
        f"float64. Timed on {k + 1} samples spread over the training set (the first one is "
        f"the warm-up), extrapolated linearly to n = {n}.\n\n"
        + md_table(["", "seconds"], table)
        + "\n\nSame numbers as ours on those samples (max relative error, limit 1e-6):\n\n"
        + md_table(["detector", "max rel. error", "equal"], rows)
    )
    report.target(
        "naive / ours, detection work (steady state, naive extrapolated)",
        ">= 100x",
        f"{ratio_steady:,.0f}x" + ("" if all_equal else " (scores differ!)"),
        ratio_steady >= 100 and all_equal,
    )


JOB_CODE = """\
import json, time
t0 = time.perf_counter()
from mislabel.joblog import use_jax_cache
use_jax_cache({cache!r})
import jax, {modules}
from mislabel.stages.{stage} import {func}
t1 = time.perf_counter()
{func}(**{kwargs!r}, log=lambda line: None)
t2 = time.perf_counter()
hwm = next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
phases = {{"imports": t1 - t0, "work": t2 - t1, "peak_mib": int(hwm.split()[1]) / 1024}}
print("PHASES", json.dumps(phases))
"""

# The module of `mislabel.stages` that holds each stage function a job runs.
STAGE_MODULES = {"train_model": "train", "score_samples": "score", "unlearn_run": "unlearn"}


def run_job(func: str, modules: str, kwargs: dict, cache: Path):
    """One stage as its own process; (ProcessRun, {"imports": s, "work": s})."""
    stage = STAGE_MODULES[func]
    code = JOB_CODE.format(cache=str(cache), modules=modules, stage=stage, func=func, kwargs=kwargs)
    run = run_process([PYTHON, "-c", code], env=clean_env(), cwd=str(cache.parent))
    if run.returncode != 0:
        raise RuntimeError(f"job {func} failed ({run.returncode}):\n{run.output[-3000:]}")
    line = next(ln for ln in run.output.splitlines() if ln.startswith("PHASES "))
    return run, json.loads(line.split(" ", 1)[1])


def prepare_runs(work: Path, cache_dir: str, ratios) -> dict[float, Path]:
    """Noisy dataset and trained model for each ratio (in this process); their folders."""
    from mislabel.stages.data import make_noisy_dataset
    from mislabel.stages.train import train_model

    raw = Path(cache_dir) / "mnist.npz"  # the verified cache load_problem filled
    dirs = {}
    for r in ratios:
        d = work / f"r{r}"
        d.mkdir(parents=True)
        make_noisy_dataset(raw, d / "noisy.npz", dataset="mnist", ratio=r, seed=0, **NOISY)
        train_model(
            d / "noisy.npz",
            d / "model.msgpack",
            d / "history.npz",
            hidden=HIDDEN,
            training=PAPER,
            seed=0,
            log=lambda line: None,
        )
        dirs[r] = d
    return dirs


def job_kwargs(kind: str, d: Path, out: Path) -> tuple[str, str, dict]:
    """(stage function, modules it imports, keyword arguments) of one job kind, with the
    arguments the workflow's adapter (`workflow/scripts/*.py`) passes."""
    from mislabel.stages.score import score_samples

    data, model = str(d / "noisy.npz"), str(d / "model.msgpack")
    kind, _, variant = kind.partition(" ")
    if kind == "train":
        files = {"model_path": out / "model.msgpack", "history_path": out / "history.npz"}
        kwargs = {"hidden": list(HIDDEN), "seed": 0, "training": dict(PAPER)}
        func, modules = "train_model", "mislabel.network.train"
    elif kind == "score":
        files = {"scores_path": out / "scores.npz", "metrics_path": out / "metrics.json"}
        kwargs = {"detector": variant}
        if "with_metrics" in inspect.signature(score_samples).parameters:
            kwargs["with_metrics"] = False  # as workflow/scripts/score.py does
        func, modules = "score_samples", "mislabel.detect"
    else:
        files = {}
        kwargs = {
            "model_paths": {"mislabeled": str(out / "model.msgpack")},
            "info_paths": {"mislabeled": str(out / "info.json")},
            "timing_path": None,
            "unlearner": variant,
            "training": dict(PAPER),
        }
        func, modules = "unlearn_run", "mislabel.unlearn"
    if kind != "train":
        kwargs["model_path"] = model
    kwargs.update(dataset_path=data, **{k: str(v) for k, v in files.items()})
    return func, modules + ", mislabel.files.checkpoint", kwargs


def bench_jobs(report: Report, work: Path, cache_dir: str, repeats: int) -> None:
    """6. Whole stages as separate processes: cold vs warm persistent compilation cache."""
    other_ratios = (0.1, 0.3, 0.4)
    dirs = prepare_runs(work, cache_dir, (RATIO, *other_ratios))
    kinds = [
        "train",
        "score loss",
        "score if_self",
        "unlearn influence",
        "unlearn ssse",
        "unlearn finetune",
    ]
    rows, peak = [], 0.0
    for kind in kinds:
        cache = work / ("jax_cache_" + kind.replace(" ", "_"))
        out = work / ("out_" + kind.replace(" ", "_"))
        out.mkdir()
        func, modules, kwargs = job_kwargs(kind, dirs[RATIO], out)
        cold, cold_phases = run_job(func, modules, kwargs, cache)
        warm = [run_job(func, modules, kwargs, cache) for _ in range(repeats)]
        secs = Timing(cold.seconds, [w.seconds for w, _ in warm])
        imports = statistics.median(p["imports"] for _, p in warm)
        compute = statistics.median(p["work"] for _, p in warm)
        rss = max([cold_phases["peak_mib"]] + [p["peak_mib"] for _, p in warm])
        row = [
            kind,
            fmt_s(secs.first),
            secs.steady(),
            fmt_s(imports),
            fmt_s(compute),
            fmt_s(secs.median - imports - compute),
        ]
        if kind.startswith("unlearn"):
            # the grid's situation: a warm cache, but another forget-set size m
            new = [run_job(*job_kwargs(kind, dirs[r], out), cache) for r in other_ratios]
            new_median = statistics.median(n.seconds for n, _ in new)
            row.append(fmt_s(new_median))
            rss = max([rss] + [p["peak_mib"] for _, p in new])
        else:
            row.append("same shapes")
        rows.append([*row, f"{rss:.0f} MiB"])
        peak = max(peak, rss)
        if kind.startswith(("score", "unlearn")):
            report.target(
                f"warm `{kind}` job, start to exit",
                "<= 2.5 s",
                fmt_s(secs.median),
                secs.median <= 2.5,
            )
        if kind in ("unlearn ssse", "unlearn finetune"):
            report.target(
                f"warm `{kind}` job, new forget-set size (as in the grid)",
                "<= 2.5 s",
                fmt_s(new_median),
                new_median <= 2.5,
            )
    report.target(
        "peak memory per job (section 6 processes)",
        f"<= {MIB_LIMIT} MiB",
        f"{peak:.0f} MiB",
        peak <= MIB_LIMIT,
    )
    report.add(
        "## 6. Per-job overhead: each stage as its own process (as Snakemake runs them)\n\n"
        '`python -c "from mislabel.joblog import use_jax_cache; use_jax_cache(DIR); '
        "from mislabel.stages.STAGE import ...; ...(...)\"` with the arguments the workflow's "
        "adapter passes, r = 0.2, start to exit; no job log, no Snakemake. 'cold': empty "
        f"cache DIR (one per job kind); 'warm': {repeats} more runs with the same inputs. "
        "Warm breakdown: imports (JAX + the stage's modules), work (load, compile or cache "
        "load, compute, write), and the rest (interpreter start and exit). 'new m': warm "
        f"cache, but the model and forget set of r = {', '.join(map(str, other_ratios))} "
        "(median of 3), so the forget-set size and thus the array shapes differ, as between "
        "the jobs of a grid. Peak RSS: the job's own `VmHWM`.\n\n"
        + md_table(
            [
                "job",
                "cold",
                "warm median (min)",
                "imports",
                "work",
                "start+exit",
                "warm, new m",
                "peak RSS",
            ],
            rows,
        )
    )


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a few minutes)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results.md"))
    parser.add_argument("--mnist-cache", default="/tmp/mnist_cache")
    args = parser.parse_args()
    repeats, imports, naive_k, job_repeats = (5, 3, 5, 3) if args.quick else (10, 5, 20, 5)

    # this process measures first calls: no persistent compilation cache may serve them
    for key in [k for k in os.environ if k.startswith("JAX_")]:
        del os.environ[key]
    started = time.perf_counter()
    report = Report()
    info = {**machine_info(), "mislabel tree": tree_state(str(ROOT))}
    report.add("## Machine\n\n" + md_table(["", ""], list(info.items())))
    bench_imports(report, imports)

    from mislabel.network.mlp import make_model

    x, y, flipped = load_problem(args.mnist_cache)
    model = make_model(HIDDEN, n_classes=2)
    state = bench_train(report, model, x, y, repeats)
    scores, fast = bench_detect(report, model, state.params, x, y, repeats)
    bench_unlearn(report, model, state, x, y, flipped, repeats)
    bench_naive(report, model, state.params, x, y, scores, fast, naive_k)
    with tempfile.TemporaryDirectory(prefix="mislabel-jobs-") as work:
        bench_jobs(report, Path(work), args.mnist_cache, job_repeats)
    mode = "--quick" if args.quick else "full"
    header = (
        "# mislabel benchmarks\n\n"
        f"`python benchmarks/run.py{' --quick' if args.quick else ''}` ({mode} repeats; "
        f"the run took {fmt_s(time.perf_counter() - started)}). Paper problem: MNIST 0 vs 1, "
        f"1000 per class, r = {RATIO}, MLP 784-50-50-2, SGD lr 0.01 momentum 0.9 batch 32, "
        "20 epochs. Steady state = median of repeated calls after the first (which compiles)."
    )
    digest = code_digest(str(ROOT))
    if digest not in info["mislabel tree"]:
        header += (
            f"\n\n**The code changed during the run** (digest now {digest}, "
            f"{tree_state(str(ROOT))}); the numbers may mix two versions."
        )
    targets = "## Targets\n\n" + report.target_table()
    print(targets, flush=True)
    text = "\n\n".join([header, report.parts[0], targets, *report.parts[1:]]) + "\n"
    Path(args.out).write_text(text)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
