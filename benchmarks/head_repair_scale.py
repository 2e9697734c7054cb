"""A whole repair of a softmax head of real size, `if_self` + `influence`, process included.

Writes `benchmarks/head_repair_scale.md` (the docs include it) and `.csv`: for each head
(N samples, D features, C classes), the wall time and peak RSS of one
`mislabel repair-head --detector if_self --unlearner influence --ratio 0.1` process given a
holdout, which scores every sample, flags the top 10%, forgets them with one damped Newton
step per damping of the grid, and runs the 5-fold cross-fit that chooses the damping (each
fold: remove it from the head, score, flag, forget), then judges the chosen head on the
holdout.

The data are `head_scale.synthetic_head`'s (Gaussian classes, 10% of the labels flipped);
the head is a trained one, as a user's would be: scikit-learn's multinomial logistic
regression on the noisy labels with a ridge of 1e-3 per sample (the fit is not timed). The
holdout is 10,000 fresh samples of the same classes, those whose label was not flipped.

Usage: .venv/bin/python benchmarks/head_repair_scale.py [--quick]
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
sys.path.insert(0, str(HERE))
from head_scale import machine, synthetic_head  # noqa: E402

SIZES = [(50_000, 512, 10)]
QUICK_SIZES = [(5_000, 128, 10)]
HOLDOUT = 10_000


def trained_head(x, y, n_classes):
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1.0 / (1e-3 * len(y)), max_iter=500, tol=1e-6).fit(x, y)
    return fit.coef_.T.astype(np.float32), fit.intercept_.astype(np.float32)


def run(n: int, d: int, c: int) -> dict:
    x_all, y_all, flipped_all, _, _ = synthetic_head(n + HOLDOUT, d, c)
    x, y = x_all[:n], y_all[:n]
    clean = ~flipped_all[n:]
    W, b = trained_head(x, y, c)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.save(folder / "x.npy", x)
        np.save(folder / "y.npy", y)
        np.save(folder / "hx.npy", x_all[n:][clean])
        np.save(folder / "hy.npy", y_all[n:][clean])
        np.savez(folder / "head.npz", W=W, b=b)
        command = [
            *[sys.executable, "-m", "mislabel", "repair-head", "--json", "-q"],
            *["--features", "x.npy", "--labels", "y.npy", "--head", "head.npz"],
            *["--holdout-features", "hx.npy", "--holdout-labels", "hy.npy"],
            *["--detector", "if_self", "--unlearner", "influence", "--ratio", "0.1"],
            *["--out", "repaired.npz", "--allow-worse"],
        ]
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out, err = proc.stdout.read(), proc.stderr.read()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"repair-head failed:\n{err[-3000:]}")
    facts = json.loads(out)
    row = {
        "N": n,
        "D": d,
        "C": c,
        "P": (d + 1) * c,
        "wall_s": wall,
        "peak_rss_gib": usage.ru_maxrss / 2**20,
        "accuracy_before": facts["accuracy_before"],
        "accuracy_after": facts["accuracy_after"],
        "relative_damping": facts["relative_damping"],
    }
    print(row, flush=True)
    return row


def markdown(rows: list[dict], command: str) -> str:
    lines = [
        "A whole repair of a trained softmax head, `mislabel repair-head --detector if_self "
        "--unlearner influence --ratio 0.1` with a holdout: scores, the Newton steps of the "
        "damping grid, and the 5-fold cross-fit that chooses the damping; wall time and peak "
        f"RSS of that process. {machine()}. Command: `{command}`.",
        "",
        "| N | D | C | P = (D+1) C | wall | peak RSS | holdout accuracy before -> after | "
        "damping chosen (relative) |",
        "|--:|--:|--:|--:|--:|--:|:--|--:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['N']:,} | {r['D']:,} | {r['C']:,} | {r['P']:,} | {r['wall_s']:.0f} s | "
            f"{r['peak_rss_gib']:.2f} GiB | {100 * r['accuracy_before']:.1f}% -> "
            f"{100 * r['accuracy_after']:.1f}% | {r['relative_damping']:g} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = [run(*size) for size in (QUICK_SIZES if args.quick else SIZES)]
    command = " ".join([".venv/bin/python", "benchmarks/head_repair_scale.py", *sys.argv[1:]])
    out = HERE / ("head_repair_scale_quick.md" if args.quick else "head_repair_scale.md")
    out.write_text(markdown(rows, command))
    import pandas as pd

    pd.DataFrame(rows).to_csv(out.with_suffix(".csv"), index=False)
    print(out.read_text())


if __name__ == "__main__":
    main()
