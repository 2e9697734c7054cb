"""Is a repair without a holdout ever written when it makes the model worse? Measured.

Planted label noise (symmetric, r = 0.05 to 0.3) in the training labels of three sets of
features, several seeds each; every unlearner goes through `mislabel repair-head` (the
command, run in this process) without a holdout, and each decision is checked against a
clean test split that the tool never sees:

- ``digits``: scikit-learn's digits, 8 x 8 pixels / 16, a multinomial LogisticRegression
  head (C = 1) fit on the noisy labels (1198 training, 599 test samples);
- ``fashion_mnist``: Fashion-MNIST (Debian's dataset-fashion-mnist), a 784-64-10 MLP of
  this project trained on the noisy labels; the features are its hidden layer, the head
  its last layer, so the backbone has seen every training sample (3000 training, 2000
  test samples);
- ``mnist_transfer``: MNIST, a 784-64-10 MLP trained on 6000 other, clean training images
  as the backbone; a LogisticRegression head fit on the noisy labels of 3000 training
  samples' features (2000 test samples).

A false accept is a written repair whose clean test accuracy is down by more than 1 point;
a helpful repair refused is a refused one whose clean test accuracy would have risen by 1
point or more.

Run: .venv/bin/python benchmarks/repair_safety.py [--seeds 5] [--out benchmarks/repair_safety.md]
(about 25 minutes on 2 cores). The table is rendered into docs/usage.md by
`python -m mislabel.report.include`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

RATIOS = (0.05, 0.1, 0.2, 0.3)
UNLEARNERS = ("neggrad_plus", "finetune", "relabel", "retrain", "influence", "ssse")
DATASETS = ("digits", "fashion_mnist", "mnist_transfer")
HARM = 1.0  # points of clean test accuracy


class Planted(NamedTuple):
    """Training features with noisy labels, the head fit on them, and a clean test split."""

    x_train: np.ndarray
    y_noisy: np.ndarray
    flipped: np.ndarray
    W: np.ndarray
    b: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _noisy(y: np.ndarray, n_classes: int, ratio: float, seed: int):
    from mislabel.noise import inject_noise

    return inject_noise(y, n_classes, ratio, "symmetric", seed=seed)


def _logistic_head(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    return fit.coef_.T.astype(np.float32), fit.intercept_.astype(np.float32)


def planted_digits(ratio: float, seed: int) -> Planted:
    """scikit-learn's digits with planted noise and a LogisticRegression head."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    tr, te = train_test_split(np.arange(y.size), test_size=1 / 3, stratify=y, random_state=seed)
    y_noisy, flipped = _noisy(y[tr], 10, ratio, seed)
    W, b = _logistic_head(x[tr], y_noisy)
    return Planted(x[tr], y_noisy, flipped, W, b, x[te], y[te])


def _images(name: str):
    from mislabel.data.sources import load_dataset

    cache = Path(tempfile.gettempdir()) / "mislabel-benchmark-data"
    raw = load_dataset(name, cache)
    flat = lambda a: (a.reshape(a.shape[0], -1) / 255.0).astype(np.float32)  # noqa: E731
    return (
        flat(raw.train_images),
        raw.train_labels.astype(np.int32),
        flat(raw.test_images),
        (raw.test_labels.astype(np.int32)),
    )


def _mlp_features(x_fit, y_fit, seed: int, x_list):
    """Train a 784-64-10 MLP of this project on (x_fit, y_fit); its hidden features of
    each array of `x_list`, and its last layer (W, b)."""
    from mislabel.network.mlp import MLP, make_model
    from mislabel.network.train import train
    from mislabel.settings import TrainConfig

    model = make_model((64,), 10)
    state, _ = train(model, x_fit, y_fit, seed, TrainConfig())
    feats = [np.asarray(model.apply(state.params, x, method=MLP.features)) for x in x_list]
    head = state.params["params"]["head"]
    return feats, np.asarray(head["kernel"]), np.asarray(head["bias"])


def planted_fashion_mnist(ratio: float, seed: int, n_train: int = 3000, n_test: int = 2000):
    """A Fashion-MNIST MLP trained on noisy labels; its hidden features and last layer."""
    x, y, xt, yt = _images("fashion_mnist")
    rng = np.random.default_rng(seed)
    tr, te = rng.choice(y.size, n_train, replace=False), rng.choice(yt.size, n_test, replace=False)
    y_noisy, flipped = _noisy(y[tr], 10, ratio, seed)
    (f_tr, f_te), W, b = _mlp_features(x[tr], y_noisy, seed, [x[tr], xt[te]])
    return Planted(f_tr, y_noisy, flipped, W, b, f_te, yt[te])


def planted_mnist_transfer(
    ratio: float, seed: int, n_backbone: int = 6000, n_train: int = 3000, n_test: int = 2000
):
    """An MNIST backbone trained on clean images; a LogisticRegression head fit on the
    noisy labels of other images' features."""
    x, y, xt, yt = _images("mnist")
    rng = np.random.default_rng(seed)
    order = rng.permutation(y.size)
    bb, tr = order[:n_backbone], order[n_backbone : n_backbone + n_train]
    te = rng.choice(yt.size, n_test, replace=False)
    (f_tr, f_te), _, _ = _mlp_features(x[bb], y[bb], seed, [x[tr], xt[te]])
    y_noisy, flipped = _noisy(y[tr], 10, ratio, seed)
    W, b = _logistic_head(f_tr, y_noisy)
    return Planted(f_tr, y_noisy, flipped, W, b, f_te, yt[te])


BUILDERS = {
    "digits": planted_digits,
    "fashion_mnist": planted_fashion_mnist,
    "mnist_transfer": planted_mnist_transfer,
}


def clean_accuracy(W, b, x, y) -> float:
    return float(np.mean(np.argmax(x @ W + b, axis=1) == y))


def run_case(case: Planted, unlearner: str, ratio: float, work: Path) -> dict:
    """`mislabel repair-head` without a holdout; the decision and the clean test change."""
    from mislabel.cli import run
    from mislabel.repair.head import load_head

    np.save(work / "x.npy", case.x_train)
    np.save(work / "y.npy", case.y_noisy)
    np.savez(work / "head.npz", W=case.W, b=case.b)
    out = work / f"{unlearner}.npz"
    args = [
        "repair-head",
        "--features",
        str(work / "x.npy"),
        "--labels",
        str(work / "y.npy"),
        "--head",
        str(work / "head.npz"),
        "--out",
        str(out),
        "--ratio",
        str(ratio),
        "--unlearner",
        unlearner,
        "--json",
        "-q",
    ]
    # Judged as if written: --allow-worse keeps every repair, the summary says the verdict.
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = run([*args, "--allow-worse"])
    if code != 0:
        raise RuntimeError(f"repair-head failed ({code}) on {unlearner}")
    summary = json.loads(stdout.getvalue())
    W_new, b_new = load_head(out)
    before = clean_accuracy(case.W, case.b, case.x_test, case.y_test)
    after = clean_accuracy(W_new, b_new, case.x_test, case.y_test)
    out.unlink()
    return {
        "unlearner": unlearner,
        "written": bool(summary["not_worse"]),
        "estimate_points": summary["change_points"],
        "low_points": summary["interval_points"][0],
        "clean_change_points": 100 * (after - before),
        "clean_before": before,
    }


def table(rows: list[dict], title: str) -> str:
    """The safety table: per dataset and overall."""
    import pandas as pd

    df = pd.DataFrame(rows)
    lines = [
        title,
        "",
        "| features | cases | repairs | written | false accepts | helpful refused | "
        "mean clean change of written (points) |",
        "|:--|--:|--:|--:|--:|--:|--:|",
    ]

    def row(name, part):
        written = part[part.written]
        false = int(((part.written) & (part.clean_change_points < -HARM)).sum())
        refused = int(((~part.written) & (part.clean_change_points >= HARM)).sum())
        mean = written.clean_change_points.mean() if len(written) else float("nan")
        cases = part.groupby(["dataset", "ratio", "seed"]).ngroups
        lines.append(
            f"| {name} | {cases} | {len(part)} | {len(written)} | {false} | {refused} | "
            f"{mean:+.2f} |"
        )

    for name in DATASETS:
        if (df.dataset == name).any():
            row(name, df[df.dataset == name])
    row("**all**", df)
    lines += [
        "",
        "| unlearner | repairs | written | false accepts | helpful refused | helpful (clean +1 "
        "point or more) written | mean clean change of written (points) |",
        "|:--|--:|--:|--:|--:|--:|--:|",
    ]
    for name in UNLEARNERS:
        part = df[df.unlearner == name]
        if not len(part):
            continue
        written = part[part.written]
        helpful = part[part.clean_change_points >= HARM]
        lines.append(
            f"| {name} | {len(part)} | {len(written)} | "
            f"{int(((part.written) & (part.clean_change_points < -HARM)).sum())} | "
            f"{int(((~part.written) & (part.clean_change_points >= HARM)).sum())} | "
            f"{int(helpful.written.sum())} of {len(helpful)} | "
            f"{(written.clean_change_points.mean() if len(written) else float('nan')):+.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--unlearners", nargs="+", default=list(UNLEARNERS), choices=UNLEARNERS)
    parser.add_argument("--out", default="benchmarks/repair_safety.md")
    parser.add_argument("--csv", default="benchmarks/repair_safety.csv")
    args = parser.parse_args(argv)
    rows = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            for ratio in RATIOS:
                for seed in range(args.seeds):
                    case = BUILDERS[name](ratio, seed)
                    for unlearner in args.unlearners:
                        row = run_case(case, unlearner, ratio, Path(tmp))
                        rows.append({"dataset": name, "ratio": ratio, "seed": seed, **row})
                        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    import pandas as pd

    pd.DataFrame(rows).to_csv(args.csv, index=False, float_format="%.4g")
    minutes = (time.perf_counter() - start) / 60
    title = (
        f"Measured with `.venv/bin/python benchmarks/repair_safety.py --seeds {args.seeds}` "
        f"({minutes:.0f} min on this machine): planted symmetric noise r in "
        f"{', '.join(map(str, RATIOS))}, seeds 0-{args.seeds - 1}, `repair-head --ratio r` "
        "without a holdout, every decision checked on a clean test split the tool never saw. "
        f"A false accept is written with clean test accuracy down by more than {HARM:g} point; "
        f"a helpful repair refused would have gained {HARM:g} point or more."
    )
    Path(args.out).write_text(table(rows, title))
    print(Path(args.out).read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
