"""The `mislabel` command line against the naive per-sample baseline, side by side.

    .venv/bin/python benchmarks/cli_vs_naive.py [--naive-budget 180]
        [--out benchmarks/cli_vs_naive.md]

(a) Three `mislabel` processes, one after the other, on the paper's problem (MNIST 0 vs 1,
1000 training images per class, symmetric noise r = 0.05, MLP 784-50-50-2, SGD as the
paper): `noise`, `train`, `score --detector if_self`. First with an empty JAX compilation
cache (cold), then again with the cache the first pass filled (warm).

(b) The naive baseline of the authors' approach (`benchmarks/naive.py`, `naive_scores`):
for every training sample, one at a time in eager JAX, the Hessian of the mean training
loss recomputed, pseudo-inverted, and the four scores of that sample (if_self among them),
on the model that (a) trained. It runs in its own process; its wall time includes that
process's start. If all samples would take longer than `--naive-budget` seconds, it
scores a prefix and the full time is extrapolated linearly (the table says so).

The speed-up is the naive baseline's time over the three CLI calls' total. The naive
scores are checked against the CLI's (largest relative difference).
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
MISLABEL = str(Path(sys.executable).with_name("mislabel"))
RATIO = 0.05
MNIST_CANDIDATES = (ROOT / "results/data/mnist.npz", Path("/tmp/golden/results/data/mnist.npz"))

NAIVE = r"""
import json, sys, time
start = time.time()
sys.path.insert(0, sys.argv[1])
import numpy as np
from naive import max_relative_error, naive_scores
from mislabel.files.checkpoint import load_model
from mislabel.data.subset import to_float
from mislabel.files.dataset import load_dataset_file

dataset, model_path, scores_path, budget, out = sys.argv[2:7]
ds = load_dataset_file(dataset)
loaded = load_model(model_path, expect_features=ds.x_train.shape[1])
x, y = to_float(ds.x_train), ds.y_train
n = y.size
found, seconds, done, chunk = [], [], 0, 25
first = time.time()
while done < n and (done == 0 or time.time() - first < float(budget)):
    idx = list(range(done, min(done + chunk, n)))
    scores, secs = naive_scores(loaded.model, loaded.state.params, x, y, idx)
    found.append(scores["if_self"])
    seconds += secs
    done += len(idx)
loop = time.time() - first
with np.load(scores_path) as npz:
    fast = npz["scores"][:done]
naive_if_self = np.concatenate(found)
json.dump({"n": n, "done": done, "loop_seconds": loop, "setup_seconds": first - start,
           "per_sample_median": float(np.median(seconds)),
           "max_relative_error": max_relative_error(naive_if_self, fast)}, open(out, "w"))
"""


def find_mnist(work: Path, env: dict) -> Path:
    """A fetched mnist.npz: an existing one, else `mislabel fetch` into `work`."""
    for path in MNIST_CANDIDATES:
        if path.is_file():
            return path
    subprocess.run([MISLABEL, "fetch", "-q", "--out-dir", str(work)], check=True, env=env)
    return work / "mnist.npz"


def cli_pass(work: Path, mnist: Path, env: dict) -> list[tuple[str, float]]:
    """noise, train, score --detector if_self as three processes; (command, wall s) each."""
    run = work / "run"
    ds, model = run / "noisy.npz", run / "model.msgpack"
    commands = [
        ["noise", "--raw", str(mnist), "--ratio", str(RATIO), "--out", str(ds)],
        ["train", "--data", str(ds), "--out", str(model), "--history", str(run / "h.npz")],
        ["score", "--data", str(ds), "--model", str(model), "--detector", "if_self"]
        + ["--out", str(run / "scores.npz"), "--info", str(run / "detection.json")],
    ]
    out = []
    for args in commands:
        start = time.perf_counter()
        subprocess.run([MISLABEL, *args, "-q"], check=True, env=env)
        out.append((f"mislabel {args[0]}", time.perf_counter() - start))
        print(f"  {out[-1][0]}: {out[-1][1]:.2f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--naive-budget",
        type=float,
        default=180.0,
        help="seconds of naive scoring before extrapolating from the prefix done",
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "cli_vs_naive.md"))
    args = parser.parse_args()
    command = "python benchmarks/cli_vs_naive.py " + " ".join(map(shlex.quote, sys.argv[1:]))
    info = machine_info()
    with tempfile.TemporaryDirectory(prefix="mislabel-vs-naive-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "MISLABEL_"))}
        env["JAX_COMPILATION_CACHE_DIR"] = str(work / "jax_cache")  # empty: a cold start
        mnist = find_mnist(work, env)
        print("CLI, cold compilation cache:", flush=True)
        cold = cli_pass(work, mnist, env)
        print("CLI, warm compilation cache:", flush=True)
        warm = cli_pass(work, mnist, env)
        detection = json.loads((work / "run" / "detection.json").read_text())
        print("naive baseline:", flush=True)
        script, result = work / "naive_run.py", work / "naive.json"
        script.write_text(NAIVE)
        start = time.perf_counter()
        subprocess.run(
            [PYTHON, str(script), str(ROOT / "benchmarks"), str(work / "run" / "noisy.npz")]
            + [str(work / "run" / "model.msgpack"), str(work / "run" / "scores.npz")]
            + [str(args.naive_budget), str(result)],
            check=True,
            env=env,
        )
        naive_wall = time.perf_counter() - start
        naive = json.loads(result.read_text())
    n, done = naive["n"], naive["done"]
    extrapolated = done < n
    naive_total = naive_wall + naive["loop_seconds"] * (n / done - 1)
    print(f"  {done} of {n} samples in {naive['loop_seconds']:.1f} s -> {naive_total:.1f} s")
    cold_total, warm_total = sum(s for _, s in cold), sum(s for _, s in warm)
    rows = [[name, fmt_s(c), fmt_s(w)] for (name, c), (_, w) in zip(cold, warm, strict=True)]
    rows.append(
        ["**noise + train + score, total**", f"**{fmt_s(cold_total)}**", f"**{fmt_s(warm_total)}**"]
    )
    how = (
        f"{done} of {n} samples timed ({fmt_s(naive['loop_seconds'])}), the rest extrapolated "
        "linearly"
        if extrapolated
        else f"all {n} samples timed"
    )
    naive_rows = [
        ["naive if_self of every sample (own process)", fmt_s(naive_total), how],
        ["of which process start, imports, loading", fmt_s(naive["setup_seconds"]), ""],
        ["per sample (median)", fmt_s(naive["per_sample_median"]), ""],
        [
            "speed-up of the CLI (warm cache)",
            f"**{naive_total / warm_total:.0f}x**",
            f"{fmt_s(naive_total)} / {fmt_s(warm_total)}",
        ],
        ["speed-up of the CLI (cold cache)", f"{naive_total / cold_total:.0f}x", ""],
        [
            "largest relative difference, naive vs CLI if_self scores",
            f"{naive['max_relative_error']:.1e}",
            f"over the {done} samples scored",
        ],
    ]
    parts = [
        "# The `mislabel` CLI against the naive per-sample baseline",
        f"Produced by `{command}` ({tree_state(str(ROOT))}).",
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()) + ".",
        __doc__.split("\n\n", 2)[2].strip(),
        f"## (a) The CLI, r = {RATIO}: wall time per process",
        md_table(["call", "cold cache", "warm cache"], rows),
        f"Detection by the CLI's if_self: ROC AUC {detection['roc_auc']:.4f}, "
        f"precision {detection['precision']:.3f} (m = {detection['m']} of n = {detection['n']}).",
        "## (b) The naive baseline, and the speed-up",
        md_table(["", "seconds", "how"], naive_rows),
    ]
    Path(args.out).write_text("\n\n".join(parts) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
