"""Stage score: anomaly scores of every training sample, top-m flags, detection facts.

One workflow job scores every configured detector of one (ratio, seed) run
(`score_run`): detectors that share their expensive part (per-sample gradients and the
Hessian, or the top eigenpairs of the full-network Hessian) are computed together, once
(`mislabel.detect.detector_groups`). `score_samples` scores a single detector (the CLI).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence

import numpy as np

from mislabel.data import to_float
from mislabel.detect import budget as nominal_budget
from mislabel.detect import (
    check_detector,
    detector_groups,
    detector_input,
    flag_top,
    score_group,
)
from mislabel.files.atomic import save_npz, write_json
from mislabel.metrics import detection_metrics
from mislabel.registry import DETECTORS
from mislabel.settings import CurvatureSettings, DetectionSettings, from_mapping
from mislabel.stages.common import PathLike, facts_text, load_run, stored_train_config
from mislabel.stopwatch import Stopwatch


def read_margins(history_path: PathLike | None, n: int) -> np.ndarray:
    """Per-epoch training margins (E, n) from a training history file (for AUM)."""
    if history_path is None:
        raise ValueError("detector 'aum' needs the training history (train_history.npz)")
    try:
        with np.load(history_path, allow_pickle=False) as npz:
            margin_ExN = np.asarray(npz["margin_ExN"], np.float64)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"training history {history_path} does not exist") from err
    except (KeyError, OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"training history {history_path} is corrupt or has no margins ({err}); "
            "retrain with `mislabel train`"
        ) from err
    if margin_ExN.ndim != 2 or margin_ExN.shape[1] != n:
        raise ValueError(
            f"training history {history_path} has margins of shape {margin_ExN.shape}, the "
            f"dataset {n} samples: they come from different runs"
        )
    return margin_ExN


def _detect(
    detectors: Sequence[str],
    dataset_path: PathLike,
    model_path: PathLike,
    history_path: PathLike | None,
    curvature: Mapping | CurvatureSettings | None,
    detection: Mapping | DetectionSettings | None,
    budget: tuple[str | None, float | None],
    log,
):
    """Load the run once, settle the budget (`flag_budget` of `budget` = (mode, ratio)),
    then score `detectors` group by group, each group timed.

    Returns (dataset, the budget (mode, m, assumed ratio), {detector: Detection},
    [timing row per group]).
    """
    for detector in detectors:
        check_detector(detector)
    curvature = from_mapping(CurvatureSettings, curvature)  # bad settings fail before loading
    detection = from_mapping(DetectionSettings, detection)
    ds, loaded = load_run(dataset_path, model_path)
    chosen = flag_budget(ds, *budget)  # a bad budget fails before any scoring
    needs_margins = any(DETECTORS[d].needs_margins for d in detectors)
    margin_ExN = read_margins(history_path, ds.y_train.size) if needs_margins else None
    inp = detector_input(
        loaded.model,
        loaded.state.params,
        to_float(ds.x_train),
        ds.y_train,
        seed=int(loaded.meta.get("seed", ds.seed)),
        train_config=stored_train_config(loaded.meta),
        margin_ExN=margin_ExN,
        curvature=curvature,
        detection=detection,
    )
    found, timings = {}, []
    for group in detector_groups(tuple(detectors)):
        with Stopwatch() as watch:
            found.update(score_group(group, inp))
        timings.append({"stage": "score", "name": "+".join(group), **watch.timing.as_dict()})
        facts = facts_text(found[group[0]].info)
        log(
            f"scored {', '.join(group)} in {watch.timing.wall:.1f} s"
            + (f": {facts}" if facts else "")
        )
    return ds, chosen, found, timings


BUDGETS = ("oracle", "nominal")


def flag_budget(ds, budget: str | None, ratio: float | None = None) -> tuple[str, int, float]:
    """How many samples a run flags: (budget mode, m, the noise ratio m assumes).

    - ``oracle``: m = the true number of flipped samples, as the paper assumes
      (m = |D_mislabeled|); needs a dataset whose flips are known.
    - ``nominal``: m = round(n r), r = `ratio` (default: the dataset's own ratio).
    - None: ``oracle`` when the dataset knows its flips, else ``nominal`` (the CLI).
    """
    if budget is None:
        budget = "nominal" if ds.noise_mode == "unknown" else "oracle"
    if budget not in BUDGETS:
        raise ValueError(f"unknown budget {budget!r}; choose one of {list(BUDGETS)}")
    n = int(ds.flipped.size)
    if budget == "nominal":
        ratio = ds.ratio if ratio is None else float(ratio)
        return budget, nominal_budget(n, ratio), ratio
    if ratio is not None:
        raise ValueError(
            f"the oracle budget takes m from the true flips; an assumed ratio ({ratio}) "
            "needs budget 'nominal'"
        )
    if ds.noise_mode == "unknown":
        raise ValueError(
            "the oracle budget needs the true flips, but this dataset does not know which "
            "labels are wrong; use budget 'nominal' with an assumed noise ratio"
        )
    m = int(np.sum(ds.flipped))
    return budget, m, m / n if n else 0.0


def _save_detection(
    ds, detector: str, result, budget: tuple[str, int, float], paths, with_metrics: bool, log
) -> dict:
    """Write one detector's score file and info JSON; return the info row.

    `budget` is (mode, m, assumed ratio) from `flag_budget`; `paths` (scores, info).
    """
    scores_path, info_path = paths
    mode, m, ratio = budget
    score = result.scores_N
    flagged = flag_top(score, m)
    row = {
        "dataset": ds.dataset,
        "ratio": ds.ratio,
        "seed": ds.seed,
        "detector": detector,
        "budget": mode,
        "assumed_ratio": ratio,
        "n": int(score.size),
        "m": int(m),
        "flipped_ratio": float(np.mean(ds.flipped)),
        "m_estimated": float("nan"),
        "estimated_ratio": float("nan"),
        **result.info,
    }
    estimated = {}
    if result.m_estimated is not None:
        m_hat = int(result.m_estimated)
        estimated = {
            "m_estimated": np.asarray(m_hat),
            "flagged_estimated": flag_top(score, min(m_hat, score.size)),
        }
        row.update(m_estimated=m_hat, estimated_ratio=m_hat / score.size)
        log(f"{detector}: estimates {m_hat} mislabeled samples (ratio {m_hat / score.size:.4f})")
    save_npz(
        scores_path,
        scores=score.astype(np.float64),
        flagged=flagged,
        flipped=ds.flipped,
        detector=np.asarray(detector),
        ratio=np.asarray(ratio),
        m=np.asarray(m),
        **estimated,
    )
    if with_metrics:
        row.update(detection_metrics(ds.flipped, score, flagged))
        log(f"{detector}: ROC AUC {row['roc_auc']:.4f}, precision {row['precision']:.4f}")
    write_json(info_path, row)
    log(
        f"{detector}: flagged m={m} of n={score.size} ({int(ds.flipped.sum())} truly "
        f"mislabeled, {int((flagged & ds.flipped).sum())} of them flagged)"
    )
    return row


def score_run(
    dataset_path: PathLike,
    model_path: PathLike,
    scores_paths: Mapping[str, PathLike],
    info_paths: Mapping[str, PathLike],
    timing_path: PathLike,
    *,
    budget: str = "oracle",
    ratio: float | None = None,
    history_path: PathLike | None = None,
    curvature: Mapping | CurvatureSettings | None = None,
    detection: Mapping | DetectionSettings | None = None,
    with_metrics: bool = False,
    log=print,
) -> list[dict]:
    """Score every detector named in `scores_paths` on one run; write each one's files.

    Args:
      scores_paths, info_paths: {detector: score `.npz`} and {detector: info `.json`}.
      timing_path: JSON list of timing rows, one per detector group (`mislabel.stopwatch`):
        stage, name (the group's detectors joined by "+"), seconds (compilation excluded),
        compile_seconds, wall_seconds, plus dataset, ratio, seed. Clock values go only
        here, so the science files are the same bytes on every rerun.
      budget, ratio: how many samples are flagged (`flag_budget`): ``oracle``, the true
        number of flipped samples, or ``nominal``, round(n r) with r = `ratio` (default:
        the dataset's own).
      with_metrics: also compute the detection metrics (the workflow computes them from
        the written files, in `mislabel.stages.aggregate.detection_table`).
    Returns:
      The info rows, in the order of `scores_paths`.
    """
    detectors = list(scores_paths)
    if set(info_paths) != set(detectors):
        raise ValueError(f"score and info paths name different detectors: {sorted(info_paths)}")
    run = (dataset_path, model_path, history_path)
    ds, chosen, found, timings = _detect(
        detectors, *run, curvature, detection, (budget, ratio), log
    )
    rows = [
        _save_detection(
            ds,
            d,
            found[d],
            chosen,
            (scores_paths[d], info_paths[d]),
            with_metrics,
            log,
        )
        for d in detectors
    ]
    facts = {"dataset": ds.dataset, "ratio": ds.ratio, "seed": ds.seed}
    write_json(timing_path, [{**facts, **t} for t in timings])
    return rows


def score_samples(
    dataset_path: PathLike,
    model_path: PathLike,
    scores_path: PathLike,
    metrics_path: PathLike,
    *,
    detector: str,
    budget: str | None = "oracle",
    ratio: float | None = None,
    history_path: PathLike | None = None,
    curvature: Mapping | CurvatureSettings | None = None,
    detection: Mapping | DetectionSettings | None = None,
    with_metrics: bool = True,
    log=print,
) -> dict:
    """Score every training sample with one `detector`, flag the top m.

    `budget` and `ratio` set m (`flag_budget`): the true number of flipped samples
    (``oracle``) or round(n r) (``nominal``, r = `ratio`, default the dataset's own).
    Detectors that estimate the number of mislabeled samples themselves (aum, cleanlab)
    also write `m_estimated` and `flagged_estimated`. `history_path` (the training
    history) is needed by aum. The returned row also holds the timing (`seconds`,
    `compile_seconds`).
    """
    run = (dataset_path, model_path, history_path)
    ds, chosen, found, timings = _detect(
        [detector], *run, curvature, detection, (budget, ratio), log
    )
    row = _save_detection(
        ds,
        detector,
        found[detector],
        chosen,
        (scores_path, metrics_path),
        with_metrics,
        log,
    )
    return {**row, **{k: v for k, v in timings[0].items() if k.endswith("seconds")}}
