"""Self-influence of softmax heads with the peer library kronfluence (EK-FAC, PyTorch), process
included, beside our own scores of the same heads.

Writes `benchmarks/head_scale_peer.md` and `benchmarks/head_scale_peer.csv`. For each head
(N samples, D features, C classes), built by `head_scale.synthetic_head` as in
`benchmarks/head_scale.py` (Gaussian classes, 10% of the labels flipped, the linear-discriminant
head): a fresh process of the peer's interpreter loads the features, labels and head from `.npy`
files into `nn.Sequential(nn.Linear(D, C))`, fits kronfluence's EK-FAC factors
(`Analyzer.fit_all_factors`) and computes every sample's self-influence
(`Analyzer.compute_self_scores`) with the summed cross-entropy as the loss. Recorded: the seconds
of each of the two steps (timed inside the process), the wall time and peak RSS of the whole
process, and the ROC AUC of the self-influence for finding the flipped labels. With `--ours`,
our own `if_self` of the same head (`head_scale.measure(folder, "auto")`) is measured too, with
the Spearman correlation of the two scores.

The peer needs an interpreter with `torch` and `kronfluence==1.0.1` (the `peer` extra of
`pyproject.toml`, never a dependency of the package); without one the script says so and exits 0.

Usage: .venv/bin/python benchmarks/head_scale_peer.py [--python PEER_PYTHON] [--quick] [--ours]
       [--threads 2] [--batch 512] [--fisher true|empirical] [--out FILE]
(--quick: one small head, to try the script; the recorded table is from the full run.)
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

import head_scale  # noqa: E402
from head_scale import synthetic_head  # noqa: E402

HEADS = [(50_000, 512, 10), (50_000, 2048, 100)]  # (N, D, C)
QUICK_HEADS = [(5_000, 128, 10)]
DAMPING = 1e-8  # kronfluence 1.0.1's default `ScoreArguments.damping_factor`, stated explicitly


def child(folder: Path, threads: int, batch: int, fisher: str) -> None:
    """The measured process (peer interpreter): EK-FAC factors, then self-influence scores."""
    import logging

    import kronfluence
    import torch
    import torch.nn.functional as F
    from kronfluence.analyzer import Analyzer, prepare_model
    from kronfluence.arguments import FactorArguments, ScoreArguments
    from kronfluence.task import Task
    from torch import nn
    from torch.utils.data import TensorDataset

    torch.set_num_threads(threads)
    torch.manual_seed(0)  # the labels sampled for the true Fisher
    x = torch.from_numpy(np.load(folder / "x.npy").astype(np.float32, copy=False))
    y = torch.from_numpy(np.load(folder / "y.npy").astype(np.int64))
    W, b = np.load(folder / "W.npy"), np.load(folder / "b.npy")
    d, c = W.shape
    model = nn.Sequential(nn.Linear(d, c))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T, np.float32)))
        model[0].bias.copy_(torch.from_numpy(np.asarray(b, np.float32)))

    class HeadTask(Task):
        """Summed cross-entropy; with `sample`, labels drawn from the head's own softmax."""

        def compute_train_loss(self, batch, model, sample=False):
            inputs, labels = batch
            logits = model(inputs)
            if sample:
                with torch.no_grad():
                    probs = torch.softmax(logits.detach(), dim=-1)
                    labels = torch.multinomial(probs, num_samples=1).squeeze(1)
            return F.cross_entropy(logits, labels, reduction="sum")

        def compute_measurement(self, batch, model):
            inputs, labels = batch
            return F.cross_entropy(model(inputs), labels, reduction="sum")

    task = HeadTask()
    model = prepare_model(model, task)
    analyzer = Analyzer(
        analysis_name="head",
        model=model,
        task=task,
        cpu=True,
        log_level=logging.WARNING,
        disable_tqdm=True,
        output_dir=str(folder / "kronfluence"),
    )
    dataset = TensorDataset(x, y)
    factor_args = FactorArguments(
        strategy="ekfac",
        use_empirical_fisher=fisher == "empirical",
        covariance_max_examples=None,  # every sample (the default caps at 100,000)
        lambda_max_examples=None,
    )
    start = time.perf_counter()
    analyzer.fit_all_factors(
        factors_name="ekfac",
        dataset=dataset,
        per_device_batch_size=batch,
        factor_args=factor_args,
        overwrite_output_dir=True,
    )
    factors_s = time.perf_counter() - start
    start = time.perf_counter()
    analyzer.compute_self_scores(
        scores_name="self",
        factors_name="ekfac",
        train_dataset=dataset,
        per_device_train_batch_size=batch,
        score_args=ScoreArguments(damping_factor=DAMPING),
        overwrite_output_dir=True,
    )
    self_s = time.perf_counter() - start
    scores = analyzer.load_self_scores(scores_name="self")  # saved, not returned
    np.save(folder / "scores_peer.npy", scores["all_modules"].double().numpy())
    info = {
        "factors_s": factors_s,
        "self_scores_s": self_s,
        "torch": torch.__version__,
        "kronfluence": kronfluence.__version__,
        "threads": torch.get_num_threads(),
        "batch": batch,
        "fisher": fisher,
        "damping": DAMPING,
    }
    (folder / "info_peer.json").write_text(json.dumps(info))


def peer_importable(python: str) -> bool:
    """Whether `python` can import torch and kronfluence (asked in a subprocess)."""
    try:
        done = subprocess.run(
            [python, "-c", "import torch, kronfluence"], capture_output=True, timeout=300
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def measure_peer(folder: Path, python: str, threads: int, batch: int, fisher: str) -> dict:
    """Wall seconds and peak RSS of one peer `child` process (interpreter start included)."""
    command = [python, __file__, "--child", str(folder)]
    command += ["--threads", str(threads), "--batch", str(batch), "--fisher", fisher]
    log = folder / "peer_stderr.txt"  # a file, not a pipe: nothing blocks a chatty child
    with log.open("w") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = log.read_text()[-3000:]
        raise RuntimeError(f"kronfluence failed ({proc.returncode}):\n{err}")
    info = json.loads((folder / "info_peer.json").read_text())
    return {**info, "wall_s": wall, "peak_rss_gib": usage.ru_maxrss / 2**20}


def rows_for(heads, args) -> list[dict]:
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    rows = []
    for n, d, c in heads:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            x, y, flipped, W, b = synthetic_head(n, d, c)
            for name, array in {"x": x, "y": y, "W": W, "b": b}.items():
                np.save(folder / f"{name}.npy", array)
            del x
            row = {"N": n, "D": d, "C": c, "P": d * c}
            row.update(measure_peer(folder, args.python, args.threads, args.batch, args.fisher))
            peer = np.load(folder / "scores_peer.npy")
            row["auc"] = roc_auc_score(flipped, peer)
            if args.ours:
                got = head_scale.measure(folder, "auto")
                ours = np.load(folder / "scores_auto.npy")
                row["ours_curvature"] = got["chosen"]
                row["ours_wall_s"] = got["wall_s"]
                row["ours_peak_rss_gib"] = got["peak_rss_gib"]
                row["ours_auc"] = roc_auc_score(flipped, ours)
                row["spearman"] = spearmanr(peer, ours).statistic
        rows.append(row)
        print(row, flush=True)
    return rows


def markdown(rows: list[dict], ours: bool, command: str) -> str:
    first = rows[0]
    fisher = {
        "true": "the true Fisher (kronfluence's default: one label per sample drawn from the "
        "head's softmax, seeded)",
        "empirical": "the empirical Fisher (the given labels)",
    }[first["fisher"]]
    text = (
        "Self-influence of every training sample of a softmax head with the peer library "
        f"kronfluence {first['kronfluence']} (PyTorch {first['torch']}, EK-FAC): a fresh process "
        "loads the features, labels and head from `.npy` files into `nn.Linear(D, C)`, fits the "
        "EK-FAC factors (`fit_all_factors`) and computes the self-influence scores "
        "(`compute_self_scores`), the loss being the summed cross-entropy with the given labels. "
        f"The factors estimate {fisher}, from all N samples; damping {first['damping']:g} "
        f"(kronfluence's default); DataLoader batch size {first['batch']}; float32. Wall time and "
        "peak RSS are of that whole process; the two steps are timed inside it. The same "
        "synthetic heads as `head_scale.md` (`head_scale.synthetic_head`: Gaussian classes, 10% "
        f"of the labels flipped). CPU, {os.cpu_count()} cores, torch with {first['threads']} "
        "threads."
    )
    if ours:
        text += (
            " Ours: `if_self` of the same head in a fresh process as `head_scale.md` measures it "
            "(curvature `auto`, JAX with its default threads, float64); Spearman is between "
            "the two scores."
        )
    text += f" Command: `{command}`."
    header = (
        "| N | D | C | P = D C | factors | self-scores | wall | peak RSS | ROC AUC of the flips |"
    )
    rule = "|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    if ours:
        header += " ours: curvature | ours: wall | ours: peak RSS | ours: ROC AUC | Spearman |"
        rule += ":--|--:|--:|--:|--:|"
    lines = [text, "", header, rule]
    for r in rows:
        line = (
            f"| {r['N']:,} | {r['D']:,} | {r['C']:,} | {r['P']:,} | {r['factors_s']:.1f} s | "
            f"{r['self_scores_s']:.1f} s | {r['wall_s']:.1f} s | {r['peak_rss_gib']:.2f} GiB | "
            f"{r['auc']:.4f} |"
        )
        if ours:
            line += (
                f" {r['ours_curvature']} | {r['ours_wall_s']:.1f} s | "
                f"{r['ours_peak_rss_gib']:.2f} GiB | {r['ours_auc']:.4f} | {r['spearman']:.4f} |"
            )
        lines.append(line)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter with kronfluence")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--ours", action="store_true", help="also measure our own if_self")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the peer")
    parser.add_argument("--batch", type=int, default=512, help="kronfluence's batch size")
    parser.add_argument(
        "--fisher",
        choices=("true", "empirical"),
        default="true",
        help="the curvature of the factors: sampled labels (kronfluence's default) or given",
    )
    parser.add_argument("--out", type=Path, help="the Markdown file (default: beside this script)")
    parser.add_argument("--child", metavar="FOLDER", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.threads, args.batch, args.fisher)
        return
    if not peer_importable(args.python):
        print(f"kronfluence/torch not importable by {args.python}: skipped")
        return
    rows = rows_for(QUICK_HEADS if args.quick else HEADS, args)
    shown = [a if a != args.python else "PEER_PYTHON" for a in sys.argv[1:]]
    command = " ".join([".venv/bin/python", "benchmarks/head_scale_peer.py", *shown])
    if "PEER_PYTHON" in shown:
        command += "`, PEER_PYTHON being an interpreter with the `peer` extra installed: `"
        command += 'pip install -e ".[peer]"'
    text = markdown(rows, args.ours, command)
    out = args.out or HERE / ("head_scale_peer_quick.md" if args.quick else "head_scale_peer.md")
    out.write_text(text)
    import pandas as pd

    pd.DataFrame(rows).to_csv(out.with_suffix(".csv"), index=False)
    print(text)


if __name__ == "__main__":
    main()
