"""Real label errors: how many of a dataset's known label errors each detector ranks near its top.

The training set is used with its labels as given (no planted noise), e.g. MNIST's 10,000
test images, whose 100 candidates and 15 verified errors (Northcutt et al. 2021) are read
by `mislabel.data.label_errors.verified_errors`. Per seed, `score_detectors` trains the
project's MLP once (`mislabel.network.train.train`), scores every sample with the registry
detectors (`mislabel.detect.score_group`: loss, influence, aum, cleanlab) and with every
detector of `mislabel.find.find_issues` (`PROB_DETECTORS`, the same scores; `find` is a
sibling layer, not imported) on cross-validated probabilities (`cross_val_probs`).
`top_k_hits` counts the known errors among a detector's top k; `hits_table` turns the
seeds into mean and sd; `write_real_errors` writes the table (``.csv``, ``.md``) and one
figure per detector of its top 24 images.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mislabel.detect import detector_groups, detector_input, score_group
from mislabel.detectors.confident_learning import cross_val_probs
from mislabel.detectors.probabilities import PROB_DETECTORS, check_probs
from mislabel.files import atomic
from mislabel.network.mlp import make_model
from mislabel.network.train import train
from mislabel.report.figure_style import PNG_DPI, PNG_METADATA
from mislabel.report.flagged import MAX_IMAGES, flagged_figure, flagged_rows
from mislabel.settings import DetectionSettings, TrainConfig

REGISTRY_DETECTORS = ("loss", "if_self", "if_train", "if_train_minus_z", "aum", "cleanlab")
FIND_PREFIX = "find_issues:"
TOP_K = (50, 100, 200)
CSV_COLUMNS = ["detector", "seeds", "top_k", "verified_mean", "verified_sd"]
CSV_COLUMNS += ["candidates_mean", "candidates_sd", "n_verified", "n_candidates"]


class Scores(NamedTuple):
    """One seed's scores: {detector: scores_N} (higher = more likely mislabeled) and the
    suggested label of every sample (argmax of its cross-validated probabilities), (N,)."""

    by_detector: dict[str, np.ndarray]
    suggested_N: np.ndarray


def all_detectors() -> tuple[str, ...]:
    """Names in `score_detectors`' output: the registry's, then ``find_issues:<name>``."""
    return REGISTRY_DETECTORS + tuple(FIND_PREFIX + name for name in PROB_DETECTORS)


def score_detectors(
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    n_classes: int,
    *,
    hidden: Sequence[int],
    seed: int,
    config: TrainConfig,
    detection: DetectionSettings | None = None,
) -> Scores:
    """Train one model on (x, y) and score every sample with every detector of `all_detectors`.

    Args:
      x_NxD: float32 features (pixels in [0, 1]); y_N: the given labels in 0..C-1.
    Returns:
      `Scores`; the cross-validated probabilities use ``detection.cv_folds`` folds
      (default `DetectionSettings()`).
    """
    detection = detection or DetectionSettings()
    x_NxD = np.asarray(x_NxD, np.float32)
    y_N = np.asarray(y_N, np.int32)
    model = make_model(tuple(hidden), n_classes)
    state, history = train(model, x_NxD, y_N, seed, config)
    inp = detector_input(
        model,
        state.params,
        x_NxD,
        y_N,
        seed=seed,
        train_config=config,
        margin_ExN=np.asarray(history.margin_ExN),
        detection=detection,
    )
    by_detector: dict[str, np.ndarray] = {}
    for group in detector_groups(REGISTRY_DETECTORS):
        for name, detection_ in score_group(group, inp).items():
            by_detector[name] = np.asarray(detection_.scores_N, np.float64)
    probs_NxC = cross_val_probs(
        tuple(hidden), x_NxD, y_N, n_classes, seed, config, detection.cv_folds
    )
    y_N, probs_NxC = check_probs(y_N, probs_NxC, what="cross-validated probabilities")
    for name, detector in PROB_DETECTORS.items():  # the scores of `find_issues`
        by_detector[FIND_PREFIX + name] = np.asarray(detector(y_N, probs_NxC), np.float64)
    return Scores(by_detector, probs_NxC.argmax(axis=1))


def top_k_hits(scores_N: np.ndarray, marked: np.ndarray, ks: Sequence[int] = TOP_K) -> list[int]:
    """How many of the `marked` indexes rank among the k highest scores, for each k.

    Ties are broken by the lower index first (as `mislabel.detect.flag_top`); NaN ranks last.
    """
    scores_N = np.asarray(scores_N, np.float64)
    marked = np.asarray(marked, np.int64)
    if marked.size and (marked.min() < 0 or marked.max() >= scores_N.size):
        raise ValueError(f"marked indexes must lie in 0..{scores_N.size - 1}")
    key = np.where(np.isnan(scores_N), -np.inf, scores_N)
    rank_N = np.empty(scores_N.size, np.int64)
    rank_N[np.lexsort((np.arange(scores_N.size), -key))] = np.arange(scores_N.size)
    return [int(np.sum(rank_N[marked] < k)) for k in ks]


def _mean_sd(values: Sequence[int]) -> tuple[float, float]:
    values = np.asarray(values, np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def hits_table(
    runs: Sequence[Scores],
    candidates: np.ndarray,
    verified: np.ndarray,
    ks: Sequence[int] = TOP_K,
) -> list[dict]:
    """One row per detector and k: mean and sd across runs (seeds) of the verified errors and
    of the candidates among its top k.

    Args:
      runs: one `Scores` per seed; candidates: indexes of the candidates (K,);
      verified: bool mask over the candidates (K,).
    """
    candidates = np.asarray(candidates, np.int64)
    verified_idx = candidates[np.asarray(verified, bool)]
    rows = []
    for detector in runs[0].by_detector:
        hits_v = [top_k_hits(run.by_detector[detector], verified_idx, ks) for run in runs]
        hits_c = [top_k_hits(run.by_detector[detector], candidates, ks) for run in runs]
        for j, k in enumerate(ks):
            v_mean, v_sd = _mean_sd([h[j] for h in hits_v])
            c_mean, c_sd = _mean_sd([h[j] for h in hits_c])
            rows.append(
                {
                    "detector": detector,
                    "seeds": len(runs),
                    "top_k": int(k),
                    "verified_mean": v_mean,
                    "verified_sd": v_sd,
                    "candidates_mean": c_mean,
                    "candidates_sd": c_sd,
                    "n_verified": int(verified_idx.size),
                    "n_candidates": int(candidates.size),
                }
            )
    return rows


def markdown_table(rows: Sequence[dict], seeds: Sequence[int]) -> str:
    """The rows as a Markdown table: one line per detector, "mean +- sd" per k, and the
    detector with the most verified errors in its top 100 (first of a tie)."""
    ks = sorted({r["top_k"] for r in rows})
    first = rows[0]
    head = ["detector"]
    head += [f"verified in top {k} (of {first['n_verified']})" for k in ks]
    head += [f"candidates in top {k} (of {first['n_candidates']})" for k in ks]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for detector in dict.fromkeys(r["detector"] for r in rows):
        by_k = {r["top_k"]: r for r in rows if r["detector"] == detector}
        cells = [detector]
        for what in ("verified", "candidates"):
            cells += [f"{by_k[k][what + '_mean']:.1f} ± {by_k[k][what + '_sd']:.1f}" for k in ks]
        lines.append("| " + " | ".join(cells) + " |")
    seed_text = ", ".join(str(s) for s in seeds)
    k_best = 100 if 100 in ks else ks[len(ks) // 2]
    best = max((r for r in rows if r["top_k"] == k_best), key=lambda r: r["verified_mean"])
    return "\n".join(lines) + (
        f"\n\nMean ± sd over seeds {seed_text}. Most verified errors in the top {k_best}: "
        f"{best['detector']}, {best['verified_mean']:.1f} of {best['n_verified']}.\n"
    )


def top_figure(
    images_NxHxW: np.ndarray,
    scores_N: np.ndarray,
    given_N: np.ndarray,
    suggested_N: np.ndarray,
    candidates: np.ndarray,
    verified: np.ndarray,
    title: str,
):
    """A grid of a detector's top 24 images, titled ``#index given -> suggested``; verified
    errors framed in red, the other candidates in dashed orange."""
    from matplotlib.patches import Rectangle

    flagged_N = np.zeros(len(scores_N), bool)
    rows = flagged_rows(scores_N, given_N, suggested_N, flagged_N)[:MAX_IMAGES]
    for row in rows:
        row["flagged"] = True
    fig = flagged_figure(images_NxHxW, rows)
    fig.suptitle(title, fontsize=9)
    candidates = np.asarray(candidates, np.int64)
    verified_set = set(candidates[np.asarray(verified, bool)].tolist())
    candidate_set = set(candidates.tolist())
    h, w = images_NxHxW.shape[1:]
    for ax, row in zip(fig.axes, rows, strict=False):
        style = None
        if row["index"] in verified_set:
            style = {"edgecolor": "red", "linewidth": 3}
        elif row["index"] in candidate_set:
            style = {"edgecolor": "orange", "linewidth": 2, "linestyle": "--"}
        if style:
            ax.add_patch(Rectangle((-0.5, -0.5), w, h, fill=False, clip_on=False, **style))
    return fig


def write_real_errors(
    out_dir: str | os.PathLike,
    stem: str,
    runs: Sequence[Scores],
    seeds: Sequence[int],
    *,
    images_NxHxW: np.ndarray,
    given_N: np.ndarray,
    candidates: np.ndarray,
    verified: np.ndarray,
) -> list[Path]:
    """Write ``{stem}.csv`` and ``{stem}.md`` (the `hits_table`) and, from the first seed,
    ``{stem}_{detector}.png`` (`top_figure`) into `out_dir`. Returns the written paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = hits_table(runs, candidates, verified)
    paths = [out / f"{stem}.csv", out / f"{stem}.md"]
    atomic.write_text(paths[0], atomic.csv_text(rows, CSV_COLUMNS, float_format="%.4g"))
    atomic.write_text(paths[1], markdown_table(rows, seeds))
    first = runs[0]
    for detector, scores_N in first.by_detector.items():
        title = f"{detector}: top {MAX_IMAGES} (seed {seeds[0]}); red: verified error"
        fig = top_figure(
            images_NxHxW, scores_N, given_N, first.suggested_N, candidates, verified, title
        )
        paths.append(out / f"{stem}_{detector.replace(FIND_PREFIX, 'find_issues_')}.png")
        with atomic.atomic_path(paths[-1]) as tmp:
            fig.savefig(tmp, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
    return paths
