"""Influence scores of softmax heads of real size, process included, and how EK-FAC agrees
with the exact curvature.

Writes `benchmarks/head_scale.md` (the docs include it) and `benchmarks/head_scale.csv`:

1. **Scale.** For each head (N samples, D features, C classes) and curvature: the wall time
   of a fresh process that loads the features, labels and head from `.npy` files and scores
   every sample with `if_self` as `mislabel repair-head` does (`mislabel.detect.score_detector`
   on a model without hidden layers), and that process's peak RSS. The features are
   synthetic: C Gaussian classes in D dimensions (means N(0, s^2 I) with s = 4 / sqrt(2 D),
   unit noise), 10% of the labels flipped to another class, and the head is the classes'
   linear discriminant (W = means^T, b = -|mean|^2 / 2).
2. **Agreement.** On heads where the exact curvature runs: the Spearman correlation of each
   influence detector's EK-FAC scores with its exact ones, and both ROC AUCs of finding the
   flipped labels (scikit-learn's digits with a logistic-regression head, and synthetic
   heads as above).

Usage: .venv/bin/python benchmarks/head_scale.py [--quick] [--out FILE]
(--quick: small heads only, to try the script; the recorded tables are from the full run.
JAX runs on the default device: with a GPU present, the table says so.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SCALE = [  # (N, D, C, curvature)
    (50_000, 512, 10, "exact"),
    (50_000, 512, 10, "ekfac"),
    (50_000, 512, 10, "auto"),
    (50_000, 2048, 100, "auto"),
    (100_000, 2048, 1000, "auto"),
]
QUICK_SCALE = [(5_000, 128, 10, "exact"), (5_000, 128, 10, "ekfac"), (20_000, 512, 100, "auto")]
AGREEMENT = [(10_000, 512, 10), (20_000, 128, 50)]
QUICK_AGREEMENT = [(2_000, 64, 10)]
DETECTORS = ("if_self", "if_train", "if_train_minus_z")


def synthetic_head(n: int, d: int, c: int, seed: int = 0):
    """Features (float32), given labels, flipped mask and the linear-discriminant head."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=4 / np.sqrt(2 * d), size=(c, d)).astype(np.float32)
    y = rng.integers(0, c, n)
    x = np.empty((n, d), np.float32)
    for start in range(0, n, 10_000):  # in blocks: no float64 copy of the whole array
        stop = min(start + 10_000, n)
        x[start:stop] = means[y[start:stop]] + rng.standard_normal((stop - start, d), np.float32)
    flipped = rng.random(n) < 0.1
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, c, int(flipped.sum()))) % c
    return x, noisy, flipped, means.T.copy(), -0.5 * np.sum(means**2, axis=1)


def child(folder: Path, kind: str) -> None:
    """The measured process: load the head and its data, score `if_self`, save the scores."""
    from mislabel.detect import score_detector
    from mislabel.network.mlp import make_model
    from mislabel.settings import CurvatureSettings

    x, y = np.load(folder / "x.npy"), np.load(folder / "y.npy")
    W, b = np.load(folder / "W.npy"), np.load(folder / "b.npy")
    params = {"params": {"head": {"kernel": W, "bias": b}}}
    found = score_detector(
        "if_self",
        make_model((), W.shape[1]),
        params,
        x,
        y,
        curvature=CurvatureSettings(head_curvature=kind),
    )
    np.save(folder / f"scores_{kind}.npy", found.scores_N)
    (folder / f"info_{kind}.json").write_text(json.dumps(found.info))


def measure(folder: Path, kind: str) -> dict:
    """Wall seconds and peak RSS of one `child` process (interpreter start included)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", str(folder), kind],
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} failed ({proc.returncode}):\n{err[-3000:]}")
    info = json.loads((folder / f"info_{kind}.json").read_text())
    return {
        "wall_s": wall,
        "peak_rss_gib": usage.ru_maxrss / 2**20,
        "chosen": info.get("hessian_curvature", ""),
        "estimate_gib": info.get("hessian_memory_estimate_gib", float("nan")),
    }


def scale_rows(sizes) -> list[dict]:
    rows = []
    for n, d, c, kind in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            x, y, flipped, W, b = synthetic_head(n, d, c)
            for name, array in {"x": x, "y": y, "W": W, "b": b}.items():
                np.save(folder / f"{name}.npy", array)
            del x
            got = measure(folder, kind)
            scores = np.load(folder / f"scores_{kind}.npy")
        from sklearn.metrics import roc_auc_score

        row = {"N": n, "D": d, "C": c, "P": d * c, "asked": kind, **got}
        row["auc"] = roc_auc_score(flipped, scores)
        rows.append(row)
        print(row, flush=True)
    return rows


def digits_head():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from mislabel.noise import inject_noise

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    noisy, flipped = inject_noise(y, 10, 0.1, mode="exact", seed=0)
    clf = LogisticRegression(C=1.0, max_iter=2000).fit(x, noisy)
    return x, noisy, flipped, clf.coef_.T, clf.intercept_


def agreement_rows(sizes) -> list[dict]:
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from mislabel.curvature.head import head_influence_scores

    heads = [("digits (1,797 x 64, 10 classes)", digits_head())]
    for n, d, c in sizes:
        heads.append((f"synthetic ({n:,} x {d}, {c} classes)", synthetic_head(n, d, c)))
    rows = []
    for name, (x, y, flipped, W, b) in heads:
        got = {}
        for kind in ("exact", "ekfac"):
            start = time.perf_counter()
            got[kind], _ = head_influence_scores(W, b, x, y, bias=False, kind=kind)
            got[kind + "_s"] = time.perf_counter() - start
        for detector in DETECTORS:
            exact, ekfac = got["exact"][detector], got["ekfac"][detector]
            rows.append(
                {
                    "head": name,
                    "detector": detector,
                    "spearman": spearmanr(exact, ekfac).statistic,
                    "auc_exact": roc_auc_score(flipped, exact),
                    "auc_ekfac": roc_auc_score(flipped, ekfac),
                    "exact_s": got["exact_s"],
                    "ekfac_s": got["ekfac_s"],
                }
            )
            print(rows[-1], flush=True)
    return rows


def machine() -> str:
    """What the scores ran on: JAX's default device and the CPU cores."""
    import jax

    device = jax.devices()[0]
    where = "CPU" if device.platform == "cpu" else f"{device.platform.upper()} {device.device_kind}"
    return f"JAX on {where}, {os.cpu_count()} CPU cores"


def markdown(scale: list[dict], agree: list[dict], command: str) -> str:
    lines = [
        "Influence scores (`if_self`) of every training sample of a softmax head, as "
        "`mislabel repair-head` computes them: a fresh process loads the features, labels and "
        "head from `.npy` files and scores them (`mislabel.curvature.head`); wall time and "
        "peak RSS are of that whole process. Synthetic heads: Gaussian classes, 10% of the "
        f"labels flipped. {machine()}, float64. Command: `{command}`.",
        "",
        "| N | D | C | P = D C | curvature asked | used | wall | peak RSS | estimate beyond the "
        "inputs | ROC AUC of the flips |",
        "|--:|--:|--:|--:|:--|:--|--:|--:|--:|--:|",
    ]
    for r in scale:
        lines.append(
            f"| {r['N']:,} | {r['D']:,} | {r['C']:,} | {r['P']:,} | {r['asked']} | "
            f"{r['chosen']} | {r['wall_s']:.1f} s | {r['peak_rss_gib']:.2f} GiB | "
            f"{r['estimate_gib']:.2f} GiB | {r['auc']:.4f} |"
        )
    lines += [
        "",
        "EK-FAC against the exact curvature on the same heads (the kernel's curvature, damping "
        "0, the pseudo-inverse): Spearman correlation of the scores, and each one's ROC AUC of "
        "finding the flipped labels.",
        "",
        "| head | detector | Spearman | ROC AUC exact | ROC AUC EK-FAC | exact | EK-FAC |",
        "|:--|:--|--:|--:|--:|--:|--:|",
    ]
    for r in agree:
        lines.append(
            f"| {r['head']} | {r['detector']} | {r['spearman']:.4f} | {r['auc_exact']:.4f} | "
            f"{r['auc_ekfac']:.4f} | {r['exact_s']:.1f} s | {r['ekfac_s']:.1f} s |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, help="the Markdown file (default: beside this script)")
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return
    scale = scale_rows(QUICK_SCALE if args.quick else SCALE)
    agree = agreement_rows(QUICK_AGREEMENT if args.quick else AGREEMENT)
    command = " ".join([".venv/bin/python", "benchmarks/head_scale.py", *sys.argv[1:]])
    text = markdown(scale, agree, command)
    out = args.out or HERE / ("head_scale_quick.md" if args.quick else "head_scale.md")
    out.write_text(text)
    import pandas as pd

    pd.DataFrame(scale).to_csv(out.with_suffix(".csv"), index=False)
    print(text)


if __name__ == "__main__":
    main()
