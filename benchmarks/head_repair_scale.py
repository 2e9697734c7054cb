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

With `--profile`, it also times one Hessian-vector product (the unit of the conjugate
gradients) and the EK-FAC preconditioner on larger heads, and estimates their repair as the
measured repair's count of products times one product's time; each row's measured process
counts its products and their time.

Usage: .venv/bin/python benchmarks/head_repair_scale.py [--quick] [--profile]
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
PROFILE = [(50_000, 512, 10), (50_000, 2048, 100), (100_000, 2048, 1000)]
QUICK_PROFILE = [(5_000, 128, 10), (5_000, 512, 100)]
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
            *[sys.executable, __file__, "--count-hvps", "hvps.json", "repair-head", "--json"],
            "-q",
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
        hvps = json.loads((folder / "hvps.json").read_text())
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
        "hvps": hvps["calls"],
        "hvp_s": hvps["seconds"],
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
        "damping chosen (relative) | Hessian-vector products | their time |",
        "|--:|--:|--:|--:|--:|--:|:--|--:|--:|--:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['N']:,} | {r['D']:,} | {r['C']:,} | {r['P']:,} | {r['wall_s']:.0f} s | "
            f"{r['peak_rss_gib']:.2f} GiB | {100 * r['accuracy_before']:.1f}% -> "
            f"{100 * r['accuracy_after']:.1f}% | {r['relative_damping']:g} | "
            f"{r['hvps']:,} | {r['hvp_s']:.0f} s |"
        )
    return "\n".join(lines) + "\n"


def count_hvps(out: str, argv: list[str]) -> None:
    """Run `mislabel argv` in this process, counting the Hessian-vector products over every
    sample (`mislabel.curvature.head_solve._hvp_all`, which `HeadSystem.solve` and
    `HeadSystem.matvec` call) and their time into the JSON file `out`."""
    import jax

    from mislabel.cli.app import run as cli
    from mislabel.curvature import head_solve

    tally = {"calls": 0, "seconds": 0.0}
    hvp_all = head_solve._hvp_all

    def counted(*args, **kwargs):
        start = time.perf_counter()
        try:
            return jax.block_until_ready(hvp_all(*args, **kwargs))
        finally:
            tally["calls"] += 1
            tally["seconds"] += time.perf_counter() - start

    head_solve._hvp_all = counted
    code = cli(argv)
    Path(out).write_text(json.dumps(tally))
    sys.exit(code)


def profile_hvp(n: int, d: int, c: int, repeats: int = 3) -> dict:
    """Seconds of one Hessian-vector product of a head of this size (after its compile), and
    of its EK-FAC preconditioner (built once per system), in this process."""
    from mislabel.curvature.head_solve import HeadSystem

    x, y, _, W, b = synthetic_head(n, d, c)
    system = HeadSystem(W, b, x, y, np.full(n, 1.0 / n))
    start = time.perf_counter()
    system.at(W, b)  # builds the preconditioner
    precondition_s = time.perf_counter() - start
    V = np.random.default_rng(0).standard_normal((d + 1, c))
    system.matvec(V)  # compiles
    start = time.perf_counter()
    for _ in range(repeats):
        system.matvec(V)
    hvp_s = (time.perf_counter() - start) / repeats
    row = {"N": n, "D": d, "C": c, "hvp_s": hvp_s, "precondition_s": precondition_s}
    print(row, flush=True)
    return row


def profile_markdown(measured: dict, rows: list[dict], command: str) -> str:
    lines = [
        "",
        "Heads beyond the measured repair: one Hessian-vector product over the N samples "
        "(the unit of the conjugate gradients) and the EK-FAC preconditioner, timed in one "
        f"process after compiling; `{command} --profile`. The last column multiplies the "
        f"measured repair's {measured['hvps']:,} products by one product's time: an estimate "
        "that assumes the same number of conjugate-gradient iterations, which the "
        "preconditioner's quality on a larger head may change.",
        "",
        "| N | D | C | P = (D+1) C | one product | preconditioner | products of one repair |",
        "|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['N']:,} | {r['D']:,} | {r['C']:,} | {(r['D'] + 1) * r['C']:,} | "
            f"{r['hvp_s']:.2f} s | {r['precondition_s']:.1f} s | "
            f"{measured['hvps'] * r['hvp_s'] / 60:.0f} min |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    if sys.argv[1:2] == ["--count-hvps"]:
        count_hvps(sys.argv[2], sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="also time one product on the PROFILE heads"
    )
    args = parser.parse_args()
    rows = [run(*size) for size in (QUICK_SIZES if args.quick else SIZES)]
    command = " ".join([".venv/bin/python", "benchmarks/head_repair_scale.py", *sys.argv[1:]])
    out = HERE / ("head_repair_scale_quick.md" if args.quick else "head_repair_scale.md")
    text = markdown(rows, command)
    if args.profile:
        sizes = QUICK_PROFILE if args.quick else PROFILE
        base = command.replace(" --profile", "")
        text += profile_markdown(rows[-1], [profile_hvp(*size) for size in sizes], base)
    out.write_text(text)
    import pandas as pd

    pd.DataFrame(rows).to_csv(out.with_suffix(".csv"), index=False)
    print(out.read_text())


if __name__ == "__main__":
    main()
