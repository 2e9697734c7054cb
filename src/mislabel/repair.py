"""Repair a trained model: flag its likely mislabeled training samples and unlearn them.

The practitioner's use of the pipeline (`mislabel repair`): one call scores every
training sample with a detector, flags the top round(n r) (or, without a ratio r, the
number the detector estimates), forgets them with an unlearner, and measures the test
accuracy before and after when the dataset has a test split. It chains the stages
`score_samples` -> `unlearn_run` -> `evaluate_models` through a temporary folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from mislabel.files.dataset import load_dataset_file
from mislabel.names import ESTIMATING_DETECTORS
from mislabel.stages.common import PathLike, read_score_file
from mislabel.stages.evaluate import evaluate_models
from mislabel.stages.score import score_samples
from mislabel.stages.unlearn import unlearn_run


def repair_model(
    dataset_path: PathLike,
    model_path: PathLike,
    out_path: PathLike,
    *,
    ratio: float | None,
    detector: str = "loss",
    unlearner: str = "ssse",
    history_path: PathLike | None = None,
    scores_path: PathLike | None = None,
    info_path: PathLike | None = None,
    curvature: Mapping | None = None,
    detection: Mapping | None = None,
    training: Mapping | None = None,
    unlearning: Mapping | None = None,
    seed: int | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Flag the likely mislabeled training samples of a model and unlearn them.

    Args:
      dataset_path, model_path: the training data and the model trained on it.
      out_path: the repaired model file to write.
      ratio: the noise ratio r in (0, 1): flag the top round(n r) scores. None: flag the
        number of samples the detector estimates (aum, cleanlab only).
      detector, unlearner: names from `mislabel.names`; history_path: the training history
        (needed by aum).
      scores_path, info_path: where to keep the score file and the unlearning info too
        (None: a temporary file).
      curvature, detection, training, unlearning: settings, as for the stages; seed: of
        the unlearner's batch order (None: the model's own).
    Returns:
      n, m (the number flagged), ratio (given or estimated), ratio_estimated, detector,
      method (the unlearner), flagged_indices, flagged_per_given_class (original class
      id -> count), model, seconds_unlearn, roc_auc (NaN without known label errors) and,
      with a test split, test and balanced accuracy before and after.
    """
    if ratio is None and detector not in ESTIMATING_DETECTORS:
        raise ValueError(
            f"ratio=None needs a detector that estimates the number of mislabeled samples "
            f"({', '.join(ESTIMATING_DETECTORS)}), got {detector!r}"
        )
    ds = load_dataset_file(dataset_path)
    if not ds.flipped.any():
        log(
            "note: the dataset records no known label errors, so the detection metrics "
            "(ROC AUC, precision) logged below are not meaningful"
        )
    estimated = ratio is None
    target = "detected_estimated" if estimated else "detected"
    with tempfile.TemporaryDirectory(prefix="mislabel-repair-") as tmp:
        scores = Path(scores_path or Path(tmp) / "scores.npz")
        info_path = Path(info_path or Path(tmp) / "info.json")
        row = score_samples(
            dataset_path,
            model_path,
            scores,
            Path(tmp) / "score_info.json",
            detector=detector,
            budget="nominal",
            ratio=ratio,
            history_path=history_path,
            curvature=curvature,
            detection=detection,
            with_metrics=True,
            log=log,
        )
        [info] = unlearn_run(
            dataset_path,
            model_path,
            {target: out_path},
            {target: info_path},
            None,
            method=unlearner,
            scores_path=scores,
            budget_path=scores,
            curvature=curvature,
            training=training,
            unlearning=unlearning,
            seed=seed,
            log=log,
        )
        key = "flagged_estimated" if estimated else "flagged"
        flagged = read_score_file(scores, key, "repair").astype(bool)
        rows = []
        if ds.y_test.size:
            pair = [(out_path, info_path)]
            rows = evaluate_models(dataset_path, model_path, pair, Path(tmp) / "eval.csv", log)
    idx = np.flatnonzero(flagged)
    given = ds.classes[ds.y_train[idx]]
    result = {
        "n": int(flagged.size),
        "m": int(idx.size),
        "ratio": ratio if ratio is not None else row["estimated_ratio"],
        "ratio_estimated": estimated,
        "detector": detector,
        "method": unlearner,
        "flagged_indices": idx.tolist(),
        "flagged_per_given_class": {str(c): int((given == c).sum()) for c in ds.classes.tolist()},
        "model": str(out_path),
        "seconds_unlearn": info["seconds"],
        "roc_auc": row["roc_auc"] if ds.flipped.any() else float("nan"),
    }
    if rows:
        result |= {
            "test_accuracy_before": rows[0]["test_accuracy"],
            "test_accuracy_after": rows[1]["test_accuracy"],
            "balanced_accuracy_before": rows[0]["balanced_accuracy"],
            "balanced_accuracy_after": rows[1]["balanced_accuracy"],
        }
    return result
