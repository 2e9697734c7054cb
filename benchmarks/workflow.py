"""What a seed costs: the default workflow's wall time, cold and warm, and the cost of seeds.

    python benchmarks/workflow.py [--cores 2] [--more-seeds 4] [--out benchmarks/workflow.md]

In a fresh copy of the workflow (temporary folder), with its own empty JAX compilation
cache outside `results/`:
1. jobs per seed: `snakemake -n` with seeds [0] and [0, 1];
2. cold: `snakemake --cores N` on a clean `results/` and an empty compilation cache;
3. warm: `results/` removed, the compilation cache kept, the same command again;
4. more seeds: seeds 1..K added to that run (`--config seeds=[0,...,K]`).
Each step's wall time is start to exit of Snakemake. From the run's own summaries it also
splits the jobs' seconds (Snakemake `benchmark:` files) into the science the jobs measured
(`timing.csv`: compilation excluded, and the compilation itself) and the rest: what each
process paid before and after its science (interpreter, imports, tracing, file I/O, exit).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import clean_env, fmt_s, machine_info, md_table, run_process, tree_state  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def planned(work: Path, env: dict, *extra: str) -> int:
    """Total jobs of a dry run."""
    run = run_process([PYTHON, "-m", "snakemake", "-n", "--cores", "2", *extra], env, str(work))
    if run.returncode != 0:
        raise SystemExit(f"dry run failed:\n{run.output[-3000:]}")
    for line in run.output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "total" and parts[1].isdigit():
            return int(parts[1])
    return 0


def read_rows(path: Path) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


def job_costs(work: Path) -> list[tuple]:
    """Per rule: jobs, sum of job seconds, science seconds, compile seconds, the rest."""
    summary = work / "results/summary"
    jobs = read_rows(summary / "benchmarks.csv")
    timing = read_rows(summary / "timing.csv")
    science, compiled = defaultdict(float), defaultdict(float)
    for row in timing:
        science[row["stage"]] += float(row["seconds"])
        compiled[row["stage"]] += float(row["compile_seconds"])
    by_rule: dict[str, list[float]] = defaultdict(list)
    for job in jobs:
        by_rule[job["rule"]].append(float(job["seconds"]))
    rows = []
    for rule, secs in sorted(by_rule.items(), key=lambda kv: -sum(kv[1])):
        total = sum(secs)
        if rule in science:
            rest = total - science[rule] - compiled[rule]
            cells = [fmt_s(science[rule]), fmt_s(compiled[rule]), fmt_s(rest / len(secs))]
        else:
            cells = ["-", "-", "-"]
        rows.append((rule, len(secs), fmt_s(total), fmt_s(total / len(secs)), *cells))
    return rows


def snakemake_run(work: Path, env: dict, cores: int, *extra: str) -> float:
    argv = [PYTHON, "-m", "snakemake", "--cores", str(cores), *extra]
    run = run_process(argv, env, str(work))
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{run.output[-5000:]}")
    return run.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--more-seeds", type=int, default=4, help="seeds added in step 4")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/workflow.md"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="mislabel-workflow-"))
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(ROOT / name, work / name)
    for name in ("workflow", "envs"):
        shutil.copytree(ROOT / name, work / name)
    env = clean_env(JAX_COMPILATION_CACHE_DIR=str(work / "jax_cache"))
    state = tree_state(str(ROOT))

    one = planned(work, env)
    two = planned(work, env, "--config", "seeds=[0,1]")
    cold = snakemake_run(work, env, args.cores)
    cold_costs = job_costs(work)
    shutil.rmtree(work / "results")
    warm = snakemake_run(work, env, args.cores)
    warm_costs = job_costs(work)
    seeds = ",".join(str(s) for s in range(args.more_seeds + 1))
    more = snakemake_run(work, env, args.cores, "--config", f"seeds=[{seeds}]")
    n_jobs = len(read_rows(work / "results/summary/benchmarks.csv"))

    cmd = f"snakemake --cores {args.cores}"
    steps = [
        ("jobs planned, default config (1 seed), `snakemake -n`", str(one)),
        ("jobs each further seed adds (`-n --config seeds=[0,1]` minus the above)", str(two - one)),
        (f"`{cmd}`, clean `results/`, cold compilation cache", fmt_s(cold)),
        (f"`{cmd}`, clean `results/`, warm compilation cache", fmt_s(warm)),
        (f"adding seeds 1-{args.more_seeds} to that run (`--config seeds=[{seeds}]`)", fmt_s(more)),
        (f"jobs with a benchmark file after step 4 ({args.more_seeds + 1} seeds)", str(n_jobs)),
    ]
    headers = [
        "rule",
        "jobs",
        "job seconds",
        "per job",
        "science",
        "compilation",
        "rest per job",
    ]
    text = "\n\n".join(
        [
            "# What a seed costs",
            f"`python benchmarks/workflow.py --cores {args.cores} --more-seeds "
            f"{args.more_seeds}` ({fmt_s(time.perf_counter() - started)} in all; "
            f"tree: {state}). Default config, {args.cores} cores; each step's wall time is "
            "Snakemake's, start to exit.",
            md_table(["step", "measured"], steps),
            "## Where the jobs' seconds go, cold run",
            md_table(headers, cold_costs),
            "## Where the jobs' seconds go, warm run",
            md_table(headers, warm_costs),
            "*job seconds*: Snakemake's `benchmark:` files (each job, start to exit). "
            "*science*: the methods' seconds in `timing.csv`, compilation excluded; "
            "*compilation*: JAX tracing, lowering and compiling or loading from the cache, "
            "inside those methods; *rest per job*: the remainder over the rule's jobs, "
            "i.e. what a process pays before and after its science (interpreter, imports, "
            "Snakemake's script preamble, reading and writing files, exit).",
            "## Machine\n\n" + md_table(["", ""], list(machine_info().items())),
        ]
    )
    Path(args.out).write_text(text + "\n")
    print(text)
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
