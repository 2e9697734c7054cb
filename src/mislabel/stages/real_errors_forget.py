"""Forgetting real label errors: a detector's top k against k samples drawn at random.

On the training set of the real-errors check (`mislabel.stages.real_errors`: a dataset's
test split, labels as given), one seed's model is trained and scored. `forget_and_evaluate`
then forgets, with each unlearner (`mislabel.unlearn.unlearn`), the k samples that one
detector ranks highest (`mislabel.detect.flag_top`) and, as a control, k samples drawn at
random (`random_forget`), and measures the accuracy on an evaluation set that no step has
seen (the dataset's training split) before and after. `forget_summary` pairs the seeds:
mean and sd of the accuracy before, after the top k and after k at random, and of the
paired differences (top k - before; top k - random k). `write_forget` writes them as
``.csv`` and ``.md``. The stage functions `forget_run` and `render_forget` read and write
the workflow's files.

The detector is fixed beforehand (``forget_detector``, `mislabel.settings.RealErrorsSettings`),
never chosen on the evaluation set.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from mislabel.detect import flag_top
from mislabel.files import atomic
from mislabel.files.checkpoint import load_model
from mislabel.metrics import accuracy
from mislabel.network.mlp import predict
from mislabel.settings import (
    CurvatureSettings,
    RealErrorsSettings,
    TrainConfig,
    UnlearningSettings,
    from_mapping,
)
from mislabel.stages.common import PathLike
from mislabel.stages.real_errors import load_scores, mean_sd, read_real_data
from mislabel.unlearn import check_unlearner, unlearn
from mislabel.workflow.artifacts import REAL_ERRORS_FORGET_STEM

PRETRAINED = "pretrained"  # the unlearner column of the model before any forgetting
SELECTIONS = ("top", "random")  # which k samples are forgotten
ROW_COLUMNS = ["seed", "detector", "unlearner", "selection", "k", "n_train", "n_eval"]
ROW_COLUMNS += ["accuracy"]
# Mean and sd over seeds of each quantity, per (unlearner, k).
QUANTITIES = ("before", "top", "random", "top_minus_before", "top_minus_random")
SUMMARY_COLUMNS = ["detector", "unlearner", "k", "seeds", "n_train", "n_eval"]
SUMMARY_COLUMNS += [f"{q}_{s}" for q in QUANTITIES for s in ("mean", "sd")]


def random_forget(n: int, k: int, seed: int) -> np.ndarray:
    """Bool (n,): k distinct samples drawn without replacement, the first k of one permutation
    of ``numpy.random.default_rng(seed)``, so a seed's random sets are nested as its top-k sets."""
    if not 0 < k < n:
        raise ValueError(f"cannot forget k={k} of {n} samples; k must lie in 1..{n - 1}")
    forget_N = np.zeros(n, bool)
    forget_N[np.random.default_rng(seed).permutation(n)[:k]] = True
    return forget_N


def forget_sets(
    scores_N: np.ndarray, ks: Sequence[int], seed: int
) -> list[tuple[str, int, np.ndarray]]:
    """(selection, k, forget_N) for each k: the top k of `scores_N` (ties: lower index first),
    then k at random (`random_forget`)."""
    n = len(scores_N)
    sets = []
    for k in ks:
        if not 0 < k < n:
            raise ValueError(f"forget_k={list(ks)}: every k must lie in 1..{n - 1} (n = {n})")
        sets.append(("top", int(k), flag_top(scores_N, int(k))))
        sets.append(("random", int(k), random_forget(n, int(k), seed)))
    return sets


def eval_accuracy(model, params, x_eval_MxD: np.ndarray, y_eval_M: np.ndarray) -> float:
    """Accuracy of the model's predictions on the evaluation set."""
    return accuracy(y_eval_M, np.asarray(predict(model, params, jnp.asarray(x_eval_MxD))))


def forget_and_evaluate(
    model,
    state,
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    scores_N: np.ndarray,
    x_eval_MxD: np.ndarray,
    y_eval_M: np.ndarray,
    *,
    ks: Sequence[int],
    unlearners: Sequence[str],
    seed: int,
    train_config: TrainConfig,
    curvature: CurvatureSettings | None = None,
    unlearning: UnlearningSettings | None = None,
    detector: str,
    log=print,
) -> list[dict]:
    """Forget the top k of `scores_N`, and k at random, with each unlearner; evaluate each.

    Args:
      model, state: the model trained on (x_NxD, y_N) with `seed` and `train_config`.
      scores_N: the detector's scores of the training samples (higher = more suspect).
      x_eval_MxD, y_eval_M: the evaluation set (never trained on, never used to choose).
      ks: the numbers of samples to forget; unlearners: names of `mislabel.registry.UNLEARNERS`.
      detector: its name, for the rows.
    Returns:
      Rows of `ROW_COLUMNS`: the model before (unlearner `PRETRAINED`, selection ``none``,
      k 0), then one per (unlearner, selection, k).
    """
    n = len(y_N)
    if np.shape(scores_N) != (n,) or np.shape(x_NxD)[0] != n:
        raise ValueError(
            f"{n} labels, {np.shape(x_NxD)[0]} samples and {np.shape(scores_N)} scores disagree"
        )
    if np.shape(x_eval_MxD)[1:] != np.shape(x_NxD)[1:] or len(x_eval_MxD) != len(y_eval_M):
        raise ValueError(
            f"evaluation set {np.shape(x_eval_MxD)} with {len(y_eval_M)} labels does not match "
            f"the training samples {np.shape(x_NxD)}"
        )
    if not unlearners:
        raise ValueError("unlearners is empty; name at least one (e.g. retrain)")
    for name in unlearners:
        check_unlearner(name)
    sets = forget_sets(scores_N, ks, seed)  # every k checked before any training
    base = {"seed": int(seed), "detector": detector, "n_train": n, "n_eval": len(y_eval_M)}
    before = eval_accuracy(model, state.params, x_eval_MxD, y_eval_M)
    rows = [{**base, "unlearner": PRETRAINED, "selection": "none", "k": 0, "accuracy": before}]
    for name in unlearners:
        for selection, k, forget_N in sets:
            result = unlearn(
                name,
                model,
                state,
                x_NxD,
                y_N,
                forget_N,
                seed=seed,
                train_config=train_config,
                curvature=curvature,
                unlearning=unlearning,
            )
            after = eval_accuracy(model, result.state.params, x_eval_MxD, y_eval_M)
            rows.append(
                {**base, "unlearner": name, "selection": selection, "k": k, "accuracy": after}
            )
            log(f"{name}, {selection} {k}: accuracy {before:.4f} -> {after:.4f}")
    return rows


def forget_summary(rows: Sequence[dict]) -> list[dict]:
    """Per (unlearner, k): mean and sd over seeds of the accuracy before, after the top k,
    after k at random, and of the paired differences, seed by seed (`SUMMARY_COLUMNS`).

    Raises:
      ValueError: a seed without its model before, or without one of the two selections.
    """
    before = {int(r["seed"]): float(r["accuracy"]) for r in rows if r["unlearner"] == PRETRAINED}
    seeds = sorted(before)
    after: dict[tuple[str, int], dict[str, dict[int, float]]] = {}
    for r in rows:
        if r["unlearner"] != PRETRAINED:
            by = after.setdefault((r["unlearner"], int(r["k"])), {s: {} for s in SELECTIONS})
            by[r["selection"]][int(r["seed"])] = float(r["accuracy"])
    first = rows[0]
    summary = []
    for (unlearner, k), by in after.items():
        if not set(by["top"]) == set(by["random"]) == set(seeds):
            raise ValueError(
                f"{unlearner}, k={k}: rows of seeds top {sorted(by['top'])}, random "
                f"{sorted(by['random'])}, before any forgetting {seeds}; each needs all three"
            )
        values = {
            "before": [before[s] for s in seeds],
            "top": [by["top"][s] for s in seeds],
            "random": [by["random"][s] for s in seeds],
            "top_minus_before": [by["top"][s] - before[s] for s in seeds],
            "top_minus_random": [by["top"][s] - by["random"][s] for s in seeds],
        }
        row = {"detector": first["detector"], "unlearner": unlearner, "k": k, "seeds": len(seeds)}
        row |= {"n_train": int(first["n_train"]), "n_eval": int(first["n_eval"])}
        for q in QUANTITIES:
            row[f"{q}_mean"], row[f"{q}_sd"] = mean_sd(values[q])
        summary.append(row)
    return summary


def _points(difference: float) -> str:
    """A difference of accuracies in points, signed, without a "-0.00"."""
    return f"{round(100 * difference, 2) + 0.0:+.2f}"


def forget_markdown(summary: Sequence[dict], seeds: Sequence[int]) -> str:
    """The summary as a Markdown table: accuracies in %, differences in points, mean ± sd."""
    head = ["unlearner", "k", "accuracy before (%)", "after top k (%)", "after random k (%)"]
    head += ["top k − before (points)", "top k − random k (points)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in summary:
        cells = [r["unlearner"], str(r["k"])]
        cells += [f"{100 * r[q + '_mean']:.2f} ± {100 * r[q + '_sd']:.2f}" for q in QUANTITIES[:3]]
        cells += [f"{_points(r[q + '_mean'])} ± {100 * r[q + '_sd']:.2f}" for q in QUANTITIES[3:]]
        lines.append("| " + " | ".join(cells) + " |")
    first = summary[0]
    return "\n".join(lines) + (
        f"\n\nMean ± sd over seeds {', '.join(str(s) for s in seeds)} of the accuracy on the "
        f"{first['n_eval']:,} samples of the evaluation set (labels as given), never trained "
        f"on. Forgotten from the {first['n_train']:,} training samples: the k that "
        f"{first['detector']} ranks highest, or k drawn at random (seeded); differences are "
        "paired by seed.\n"
    )


def write_forget(out_dir: PathLike, rows: Sequence[dict], seeds: Sequence[int]) -> list[Path]:
    """Write the `forget_summary` of `rows` as ``REAL_ERRORS_FORGET_STEM`` ``.csv`` and ``.md``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = forget_summary(rows)
    paths = [out / f"{REAL_ERRORS_FORGET_STEM}.csv", out / f"{REAL_ERRORS_FORGET_STEM}.md"]
    atomic.write_text(paths[0], atomic.csv_text(summary, SUMMARY_COLUMNS, float_format="%.6g"))
    atomic.write_text(paths[1], forget_markdown(summary, seeds))
    return paths


# ------------------------------------------------------------------- the workflow's stages


def forget_run(
    dataset_path: PathLike,
    scores_path: PathLike,
    model_path: PathLike,
    out_csv: PathLike,
    *,
    dataset: str,
    settings: RealErrorsSettings,
    unlearners: Sequence[str],
    seed: int,
    training: TrainConfig,
    curvature: CurvatureSettings | None = None,
    unlearning: UnlearningSettings | None = None,
    log=print,
) -> list[dict]:
    """`forget_and_evaluate` on one seed's files (`mislabel.stages.real_errors.score_run`),
    forgetting the top ``settings.forget_k`` of ``settings.forget_detector``; writes the rows."""
    settings = from_mapping(RealErrorsSettings, settings)
    data = read_real_data(dataset_path, dataset)
    scores = load_scores(scores_path)
    if settings.forget_detector not in scores.by_detector:
        raise ValueError(
            f"forget_detector={settings.forget_detector!r} is not in {scores_path}; "
            f"choose one of {', '.join(scores.by_detector)}"
        )
    loaded = load_model(
        model_path, expect_features=data.x_NxD.shape[1], expect_classes=data.n_classes
    )
    rows = forget_and_evaluate(
        loaded.model,
        loaded.state,
        data.x_NxD,
        data.y_N,
        scores.by_detector[settings.forget_detector],
        data.x_eval_MxD,
        data.y_eval_M,
        ks=settings.forget_k,
        unlearners=unlearners,
        seed=seed,
        train_config=from_mapping(TrainConfig, training),
        curvature=from_mapping(CurvatureSettings, curvature),
        unlearning=from_mapping(UnlearningSettings, unlearning),
        detector=settings.forget_detector,
        log=log,
    )
    atomic.write_text(out_csv, atomic.csv_text(rows, ROW_COLUMNS, float_format="%.6g"))
    return rows


def read_rows(paths: Sequence[PathLike]) -> list[dict]:
    """The rows of the seeds' `forget_run` files, joined."""
    rows = []
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            rows += list(csv.DictReader(f))
    return rows


def render_forget(
    forget_paths: Sequence[PathLike], out_dir: PathLike, *, seeds: Sequence[int]
) -> list[Path]:
    """The table of forgetting (`write_forget`) from the seeds' `forget_run` files."""
    return write_forget(out_dir, read_rows(forget_paths), seeds)
