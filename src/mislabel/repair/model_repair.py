"""Repair a model file of `mislabel train`: flag its likely mislabeled training samples,
unlearn them, and write the result only if it is shown not to be worse.

The practitioner's use of the pipeline (`mislabel repair`), in one call:

1. `mislabel.repair.procedure.detect_and_forget` on every training sample: score, flag the
   top ``round(n r)`` (or, without r, an estimate), forget with the unlearner (the
   closed-form steps on the last layer update its kernel and bias, once per damping);
2. the judge: the dataset's test split, when it has one (a holdout neither model trained
   on); else out-of-fold predictions of a K-fold cross-fit in which each fold's model is
   retrained from scratch with the model's own recipe (`mislabel.repair.crossfit`). A
   closed-form step's damping is chosen by the cross-fit's out-of-fold accuracy;
3. the model, the scores and flags, the info and the report are written only when the
   95% interval of the change in accuracy lies above ``-margin`` (`mislabel.repair.judge`),
   or with ``allow_worse``; otherwise `RepairRefused` and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from mislabel.checks import check_ratio
from mislabel.data import to_float
from mislabel.files import atomic
from mislabel.files.checkpoint import save_model
from mislabel.metrics import accuracy, balanced_accuracy, detection_metrics
from mislabel.network.mlp import predict
from mislabel.registry import DETECTORS
from mislabel.repair.crossfit import (
    choice_summary,
    crossfit_pairs,
    repair_and_choose,
    retrained_start,
)
from mislabel.repair.head_repair import check_folds
from mislabel.repair.judge import crossfit_source, describe, judge, refusal
from mislabel.repair.procedure import Plan, RepairRefused, is_grid_search
from mislabel.report.flagged import write_repair_report
from mislabel.settings import (
    CurvatureSettings,
    DetectionSettings,
    RepairSettings,
    TrainConfig,
    UnlearningSettings,
    from_mapping,
)
from mislabel.stages.common import PathLike, load_run, stored_train_config
from mislabel.stages.score import read_margins

DEFAULTS = RepairSettings()
# The built-in datasets whose samples are images, and their shape (for flagged.png).
BUILT_IN_IMAGES = {"mnist": (28, 28), "fashion_mnist": (28, 28)}


def repair_model(
    dataset_path: PathLike,
    model_path: PathLike,
    out_path: PathLike,
    *,
    ratio: float | None,
    detector: str = DEFAULTS.detector,
    unlearner: str = DEFAULTS.unlearner,
    history_path: PathLike | None = None,
    scores_path: PathLike | None = None,
    info_path: PathLike | None = None,
    curvature: Mapping | None = None,
    detection: Mapping | None = None,
    training: Mapping | None = None,
    unlearning: Mapping | None = None,
    seed: int | None = None,
    report_dir: PathLike | None = None,
    image_shape: tuple[int, int] | None = None,
    allow_worse: bool = False,
    margin: float = DEFAULTS.margin,
    folds: int = DEFAULTS.folds,
    log: Callable[[str], None] = print,
) -> dict:
    """Flag the likely mislabeled training samples of a model, unlearn them, and write the
    repaired model if it is shown not to be worse (see the module docstring).

    Args:
      dataset_path, model_path: the training data and the model trained on it.
      out_path: the repaired model file to write.
      ratio: the noise ratio r in [0, 0.5]: flag the top round(n r). None: an estimate
        (the detector's own, aum and cleanlab; else confident learning's).
      detector, unlearner: names from `mislabel.registry`; history_path: the training history
        (needed by aum).
      scores_path, info_path: where to write the scores and flags (.npz, as `mislabel
        score` writes them) and the repair's summary (.json) too.
      curvature, detection, training, unlearning: settings, as for the stages (training:
        of the unlearners that train; default the model's own); seed: of the unlearners'
        batch order and of the folds (None: the model's own).
      report_dir: flagged.csv, summary.json and flagged.png (`mislabel.report.flagged`;
        images for MNIST and Fashion-MNIST, or of `image_shape`).
      allow_worse: write the repaired model even if it is not shown to be no worse.
      margin: the non-inferiority margin in accuracy points; folds: of the cross-fit.
    Returns:
      The summary: n, m, ratio, ratio_estimated, detector, unlearner, flagged_indices,
      flagged_per_given_class, roc_auc (NaN without known label errors), what judged the
      repair and the change in accuracy with its interval (`judge.change_summary`), the
      damping chosen, and with a test split test and balanced accuracy before and after.
    """
    check_ratio(ratio)
    ds, loaded = load_run(dataset_path, model_path)
    recipe = stored_train_config(loaded.meta)
    model_seed = int(loaded.meta.get("seed", ds.seed))
    plan = Plan(
        detector,
        unlearner,
        ratio,
        model_seed if seed is None else int(seed),
        from_mapping(TrainConfig, training) if training is not None else recipe,
        from_mapping(CurvatureSettings, curvature),
        from_mapping(DetectionSettings, detection),
        from_mapping(UnlearningSettings, unlearning),
        tuple(sorted(DEFAULTS.dampings)),
    )
    x, y = to_float(ds.x_train), ds.y_train
    has_test = ds.y_test.size > 0
    if not has_test or is_grid_search(unlearner):
        check_folds(folds, y)
    margins = DETECTORS[detector].needs_margins
    margin_ExN = read_margins(history_path, y.size) if margins else None
    if not ds.flipped.any():
        log("note: the dataset records no known label errors; ROC AUC is not reported")
    repaired = repair_and_choose(
        plan,
        loaded.model,
        loaded.state,
        x,
        y,
        fold_start=retrained_start(loaded.model, x, y, model_seed, recipe, margins),
        n_folds=folds,
        have_holdout=has_test,
        margin_ExN=margin_ExN,
        log=log,
    )
    done = repaired.done
    option = done.options[repaired.chosen]
    result = _result(ds, done, plan) | choice_summary(repaired, plan, folds)
    if has_test:
        x_test = to_float(ds.x_test)
        before = np.asarray(predict(loaded.model, loaded.state.params, x_test))
        after = np.asarray(predict(loaded.model, option.params, x_test))
        pairs = (before == ds.y_test, after == ds.y_test)
        judged_on = f"the dataset's test split ({ds.y_test.size} samples), its labels"
        result |= {
            "test_accuracy_before": accuracy(ds.y_test, before),
            "test_accuracy_after": accuracy(ds.y_test, after),
            "balanced_accuracy_before": balanced_accuracy(ds.y_test, before),
            "balanced_accuracy_after": balanced_accuracy(ds.y_test, after),
        }
    else:
        pairs = crossfit_pairs(repaired)
        judged_on = crossfit_source(folds, y.size, "each fold's model retrained with its recipe")
    verdict = judge(
        *pairs, margin_points=margin, judged_on=judged_on, confidence=DEFAULTS.confidence
    )
    log(f"judged on {judged_on}: {describe(verdict.change)}")
    result |= verdict.fields | {"allow_worse": bool(allow_worse), "model": str(out_path)}
    if not verdict.ok and not allow_worse:
        unwritten = f"{out_path} and the other outputs were not written."
        raise RepairRefused(refusal(verdict, margin, unwritten))
    _write(ds, loaded, done, option, result, plan, out_path, scores_path, info_path)
    if report_dir is not None:
        suggested = np.asarray(predict(loaded.model, option.params, x))
        write_repair_report(
            report_dir,
            scores_N=done.scores_N,
            given_N=ds.classes[y],
            suggested_N=ds.classes[suggested],
            flagged_N=done.flagged_N,
            summary={k: v for k, v in result.items() if k != "flagged_indices"},
            features_NxD=ds.x_train,
            image_shape=image_shape or _built_in_shape(ds),
        )
    return result


def _result(ds, done, plan: Plan) -> dict:
    """The summary's facts of the flags."""
    idx = np.flatnonzero(done.flagged_N)
    given = ds.classes[ds.y_train[idx]]
    roc = detection_metrics(ds.flipped, done.scores_N, done.flagged_N)["roc_auc"]
    return {
        "n": int(ds.y_train.size),
        "m": int(done.m),
        "ratio": plan.ratio if plan.ratio is not None else done.m / ds.y_train.size,
        "ratio_estimated": plan.ratio is None,
        "budget_source": done.budget_source,
        "detector": plan.detector,
        "unlearner": plan.unlearner,
        "flagged_indices": idx.tolist(),
        "flagged_per_given_class": {str(c): int((given == c).sum()) for c in ds.classes.tolist()},
        "roc_auc": roc if ds.flipped.any() else float("nan"),
    }


def _write(ds, loaded, done, option, result, plan, out_path, scores_path, info_path) -> None:
    """The repaired model and, when asked, the scores file and the summary."""
    from mislabel.network.train import TrainState

    state = TrainState(option.params, loaded.state.opt_state)
    if scores_path is not None:
        atomic.save_npz(
            scores_path,
            scores=done.scores_N,
            flagged=done.flagged_N,
            flipped=ds.flipped,
            detector=np.asarray(plan.detector),
            ratio=np.asarray(result["ratio"]),
            m=np.asarray(done.m),
        )
    if info_path is not None:
        atomic.write_json(info_path, atomic.jsonable(result))
    meta = {**loaded.meta, "unlearner": plan.unlearner, "repaired_by": "mislabel repair"}
    save_model(Path(out_path), loaded.model, state, ds.x_train.shape[1], extra=meta)


def _built_in_shape(ds) -> tuple[int, int] | None:
    """The image shape of a built-in dataset's samples, if they are its whole images."""
    shape = BUILT_IN_IMAGES.get(ds.dataset)
    return shape if shape and shape[0] * shape[1] == ds.x_train.shape[1] else None
