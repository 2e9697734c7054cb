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

The workflow's stages (docs/real_errors.md): `score_run` scores one seed into a file
(`save_scores`) beside its model; `render_hits` turns the seeds' files into the table and
figures. `read_real_data` reads a fetched dataset the check's way round: its test split,
labels as given, is the training set; its training split judges the forgetting
(`mislabel.stages.real_errors_forget`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mislabel.data.label_errors import LabelErrors, verified_errors
from mislabel.data.subset import to_float
from mislabel.detect import detector_groups, detector_input, score_group
from mislabel.detectors.confident_learning import confident_scores, cross_val_probs
from mislabel.detectors.probabilities import PROB_DETECTORS, check_probs
from mislabel.files import atomic
from mislabel.files.checkpoint import save_model
from mislabel.network.mlp import make_model
from mislabel.network.train import TrainState, train
from mislabel.registry import (
    CONFIDENT_LEARNING,
    FIND_ISSUES_PREFIX,
    REAL_ERRORS_DETECTORS,
    real_errors_detectors,
)
from mislabel.report.figure_style import PNG_DPI, PNG_METADATA
from mislabel.report.flagged import MAX_IMAGES, flagged_figure, flagged_rows
from mislabel.settings import DetectionSettings, RealErrorsSettings, TrainConfig, from_mapping
from mislabel.stages.common import PathLike
from mislabel.stages.data import read_raw
from mislabel.workflow.artifacts import REAL_ERRORS_STEM, real_errors_figure

TOP_K = RealErrorsSettings().top_k
CSV_COLUMNS = ["detector", "seeds", "top_k", "verified_mean", "verified_sd"]
CSV_COLUMNS += ["candidates_mean", "candidates_sd", "n_verified", "n_candidates"]


class Scores(NamedTuple):
    """One seed's scores: {detector: scores_N} (higher = more likely mislabeled), the
    suggested label of every sample (argmax of its cross-validated probabilities), (N,),
    and the trained model's state (None where it was not kept, e.g. read from a file)."""

    by_detector: dict[str, np.ndarray]
    suggested_N: np.ndarray
    state: TrainState | None = None


def all_detectors() -> tuple[str, ...]:
    """Names in `score_detectors`' output: the registry's, then ``find_issues:<name>``
    (`mislabel.registry.real_errors_detectors`)."""
    return real_errors_detectors(PROB_DETECTORS)


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
      `Scores` with the trained state; the cross-validated probabilities use
      ``detection.cv_folds`` folds (default `DetectionSettings()`).
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
    # confident learning's cross-validation is run once, below, for it and find-issues alike
    on_model = tuple(name for name in REAL_ERRORS_DETECTORS if name != CONFIDENT_LEARNING)
    for group in detector_groups(on_model):
        for name, detection_ in score_group(group, inp).items():
            by_detector[name] = np.asarray(detection_.scores_N, np.float64)
    probs_NxC = cross_val_probs(*inp.training_recipe(), detection.cv_folds)
    y_N, probs_NxC = check_probs(y_N, probs_NxC, what="cross-validated probabilities")
    if CONFIDENT_LEARNING in REAL_ERRORS_DETECTORS:
        by_detector[CONFIDENT_LEARNING] = confident_scores(y_N, probs_NxC)[0]
    for name, detector in PROB_DETECTORS.items():  # the scores of `find_issues`
        by_detector[FIND_ISSUES_PREFIX + name] = np.asarray(detector(y_N, probs_NxC), np.float64)
    return Scores(by_detector, probs_NxC.argmax(axis=1), state)


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


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample sd (ddof 1; 0 for a single value) of per-seed values."""
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
            v_mean, v_sd = mean_sd([h[j] for h in hits_v])
            c_mean, c_sd = mean_sd([h[j] for h in hits_c])
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
    ks: Sequence[int] = TOP_K,
) -> list[Path]:
    """Write ``{stem}.csv`` and ``{stem}.md`` (the `hits_table` at ranks `ks`) and, from the
    first seed, each detector's `top_figure` (`mislabel.workflow.artifacts.real_errors_figure`)
    into `out_dir`. Returns the written paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = hits_table(runs, candidates, verified, ks)
    paths = [out / f"{stem}.csv", out / f"{stem}.md"]
    atomic.write_text(paths[0], atomic.csv_text(rows, CSV_COLUMNS, float_format="%.4g"))
    atomic.write_text(paths[1], markdown_table(rows, seeds))
    first = runs[0]
    for detector, scores_N in first.by_detector.items():
        title = f"{detector}: top {MAX_IMAGES} (seed {seeds[0]}); red: verified error"
        fig = top_figure(
            images_NxHxW, scores_N, given_N, first.suggested_N, candidates, verified, title
        )
        paths.append(out / real_errors_figure(stem, detector))
        with atomic.atomic_path(paths[-1]) as tmp:
            fig.savefig(tmp, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
    return paths


# ------------------------------------------------------------------- the workflow's stages


class RealData(NamedTuple):
    """A dataset the check's way round (`read_real_data`).

    x_NxD, y_N: the training set, the dataset's test split (float32 inputs, labels as
    given); images_NxHxW: the same samples as images, for the figures; x_eval_MxD, y_eval_M:
    the evaluation set, the dataset's training split; n_classes: 1 + the largest label.
    """

    x_NxD: np.ndarray
    y_N: np.ndarray
    images_NxHxW: np.ndarray
    x_eval_MxD: np.ndarray
    y_eval_M: np.ndarray
    n_classes: int


def as_images(samples: np.ndarray, what: str) -> np.ndarray:
    """Samples as N x H x W images: images stay, (N, D) features of a square D become
    (N, sqrt D, sqrt D) (scikit-learn's digits: 8 x 8); others are refused."""
    samples = np.asarray(samples)
    if samples.ndim == 3:
        return samples
    side = int(round(np.sqrt(samples.shape[1]))) if samples.ndim == 2 else 0
    if samples.ndim != 2 or side * side != samples.shape[1]:
        raise ValueError(
            f"{what}: the figures of the real-errors check need images, got samples of shape "
            f"{samples.shape} (features of a square size D are drawn as sqrt D x sqrt D)"
        )
    return samples.reshape(len(samples), side, side)


def read_real_data(path: PathLike, dataset: str) -> RealData:
    """Read a fetched dataset (`mislabel.stages.data.fetch_dataset`; re-verified) as
    `RealData`: its test split trains, its training split evaluates."""
    raw = read_raw(path, dataset)

    def flat(x: np.ndarray) -> np.ndarray:
        return to_float(np.asarray(x).reshape(len(x), -1))

    y_N = np.asarray(raw.test_labels, np.int32)
    y_eval_M = np.asarray(raw.train_labels, np.int32)
    return RealData(
        flat(raw.test_images),
        y_N,
        as_images(raw.test_images, f"{dataset} test split"),
        flat(raw.train_images),
        y_eval_M,
        int(max(y_N.max(), y_eval_M.max())) + 1,
    )


def read_label_errors(path: PathLike | None, y_N: np.ndarray) -> LabelErrors:
    """The known errors of the training set: the table at `path` (None: the shipped one of
    MNIST's test set, `verified_errors`), checked against the labels as given.

    Raises:
      ValueError: an index outside the training set, or a given label that differs from the
        training set's (the table is of another dataset).
    """
    errors = verified_errors(path)
    where = path or "the shipped table of MNIST's test set"
    if errors.index_K.max() >= len(y_N):
        raise ValueError(
            f"label errors {where}: index {errors.index_K.max()} lies outside the "
            f"{len(y_N)} training samples"
        )
    differ = np.flatnonzero(np.asarray(y_N)[errors.index_K] != errors.given_K)
    if differ.size:
        i = errors.index_K[differ[0]]
        raise ValueError(
            f"label errors {where}: sample {i} has given_label {errors.given_K[differ[0]]}, "
            f"the dataset's label is {y_N[i]} ({differ.size} such); is the table of this dataset?"
        )
    return errors


def save_scores(path: PathLike, scores: Scores) -> None:
    """Write a seed's `Scores` (without the state) as ``.npz``: ``detectors`` (D,) names,
    ``scores_DxN`` and ``suggested_N``."""
    names = list(scores.by_detector)
    atomic.save_npz(
        path,
        detectors=np.array(names),
        scores_DxN=np.stack([scores.by_detector[n] for n in names]),
        suggested_N=np.asarray(scores.suggested_N),
    )


def load_scores(path: PathLike) -> Scores:
    """Read `save_scores`' file (state None)."""
    with np.load(path, allow_pickle=False) as npz:
        names = [str(n) for n in npz["detectors"]]
        return Scores(dict(zip(names, npz["scores_DxN"], strict=True)), npz["suggested_N"])


def score_run(
    dataset_path: PathLike,
    scores_path: PathLike,
    model_path: PathLike,
    *,
    dataset: str,
    hidden: Sequence[int],
    training: TrainConfig,
    detection: DetectionSettings,
    seed: int,
    label_errors: PathLike | None = None,
    log=print,
) -> dict:
    """Train the model of one seed on the training set of `read_real_data`, score every
    sample with every detector (`score_detectors`); write the scores and the model.

    The known errors (`read_label_errors`) are checked first, so a table of another
    dataset stops the run before any training."""
    data = read_real_data(dataset_path, dataset)
    read_label_errors(label_errors, data.y_N)
    training = from_mapping(TrainConfig, training)
    run = score_detectors(
        data.x_NxD,
        data.y_N,
        data.n_classes,
        hidden=hidden,
        seed=seed,
        config=training,
        detection=from_mapping(DetectionSettings, detection),
    )
    save_scores(scores_path, run)
    model = make_model(tuple(hidden), data.n_classes)
    save_model(
        model_path, model, run.state, data.x_NxD.shape[1], {"seed": int(seed), **training._asdict()}
    )
    log(f"scored {len(data.y_N)} samples with {len(run.by_detector)} detectors (seed {seed})")
    return {"n": len(data.y_N), "detectors": list(run.by_detector)}


def render_hits(
    dataset_path: PathLike,
    scores_paths: Sequence[PathLike],
    out_dir: PathLike,
    *,
    dataset: str,
    seeds: Sequence[int],
    settings: RealErrorsSettings,
    label_errors: PathLike | None = None,
) -> list[Path]:
    """The hits table and figures (`write_real_errors`, stem `REAL_ERRORS_STEM`) of the
    seeds' score files (one per seed, in the order of `seeds`) at ranks ``settings.top_k``."""
    if len(scores_paths) != len(seeds):
        raise ValueError(f"{len(scores_paths)} score files for {len(seeds)} seeds")
    data = read_real_data(dataset_path, dataset)
    errors = read_label_errors(label_errors, data.y_N)
    return write_real_errors(
        out_dir,
        REAL_ERRORS_STEM,
        [load_scores(p) for p in scores_paths],
        seeds,
        images_NxHxW=data.images_NxHxW,
        given_N=data.y_N,
        candidates=errors.index_K,
        verified=errors.verified_K,
        ks=from_mapping(RealErrorsSettings, settings).top_k,
    )
