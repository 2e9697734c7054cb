"""Repair a trained model: flag its likely mislabeled training samples and unlearn them.

The practitioner's use of the pipeline (`mislabel repair`): one call scores every
training sample with a detector, flags the top round(n r) (or, without a ratio r, the
number the detector estimates), forgets them with an unlearner, and judges the repair on
a holdout: the dataset's test split, else a stratified part of the training samples that
is never scored nor unlearned. It chains the stages `score_samples` -> `unlearn_run` ->
`evaluate_models` through a temporary folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from mislabel.files import atomic
from mislabel.files.dataset import NoisyDataset, load_dataset_file, save_dataset
from mislabel.names import ESTIMATING_DETECTORS
from mislabel.repair_head import RepairRefused, holdout_split, judge, split_holdout_name
from mislabel.report.flagged import write_repair_report
from mislabel.settings import RepairSettings
from mislabel.stages.common import PathLike, read_score_file
from mislabel.stages.evaluate import evaluate_models
from mislabel.stages.score import score_samples
from mislabel.stages.unlearn import unlearn_run

DEFAULTS = RepairSettings()
# The built-in datasets whose samples are images, and their shape (for flagged.png).
BUILT_IN_IMAGES = {"mnist": (28, 28), "fashion_mnist": (28, 28)}


def repair_model(
    dataset_path: PathLike,
    model_path: PathLike,
    out_path: PathLike,
    *,
    ratio: float | None,
    detector: str = "loss",
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
    holdout_fraction: float = DEFAULTS.holdout_fraction,
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
        (None: a temporary file); both cover the scored samples (without a holdout split
        off the training data: all of them).
      curvature, detection, training, unlearning: settings, as for the stages; seed: of
        the unlearner's batch order (None: the model's own) and of the holdout split.
      report_dir: where to write flagged.csv, summary.json and flagged.png
        (`mislabel.report.flagged`; the images for MNIST and Fashion-MNIST, or of
        `image_shape`).
      allow_worse: write the repaired model even if it is worse on the holdout beyond
        noise (`mislabel.repair_head.judge`); otherwise `RepairRefused` is raised and no
        model is written.
      holdout_fraction: judges the repair when the dataset has no test split: this
        stratified fraction of the training samples is set aside, never scored nor
        unlearned (`mislabel.repair_head.holdout_split`).
    Returns:
      n, m (the number flagged), ratio (given or estimated), ratio_estimated, detector,
      method (the unlearner), flagged_indices (into the training samples),
      flagged_per_given_class (original class id -> count), model, seconds_unlearn,
      roc_auc (NaN without known label errors), holdout (what judged the repair), the
      holdout's verdict (`judge`) and, with a test split, test and balanced accuracy
      before and after.
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
        work_path, work, scored, holdout = _with_holdout(
            ds, dataset_path, holdout_fraction, seed, Path(tmp), log
        )
        scores = Path(scores_path or Path(tmp) / "scores.npz")
        staged_info = Path(tmp) / "info.json"
        row = score_samples(
            work_path,
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
        key = "flagged_estimated" if estimated else "flagged"
        flags = read_score_file(scores, key, "repair").astype(bool)
        if flags.sum() > flags.size / 2:
            how = f"{detector}'s estimate" if estimated else f"ratio {ratio}"
            raise RepairRefused(
                f"{how} flags {int(flags.sum())} of {flags.size} samples, more than half: "
                "not a credible count of label errors (the detector disagrees with the model "
                "on most samples). Give a noise ratio (--ratio) or another detector; nothing "
                "was written"
            )
        staged = Path(tmp) / "repaired.msgpack"
        [info] = unlearn_run(
            work_path,
            model_path,
            {target: staged},
            {target: staged_info},
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
        flagged = np.zeros(ds.y_train.size, bool)
        flagged[scored] = flags
        score_N = np.full(ds.y_train.size, np.nan)
        score_N[scored] = read_score_file(scores, "scores", "repair")
        rows = []
        if ds.y_test.size:
            pair = [(staged, staged_info)]
            rows = evaluate_models(dataset_path, model_path, pair, Path(tmp) / "eval.csv", log)
        verdict, suggested = _judge(work, ds, model_path, staged)
        result = _result(ds, flagged, row, info, rows, verdict, ratio, detector, unlearner)
        result |= {"holdout": holdout, "model": str(out_path)}
        if report_dir is not None:
            write_repair_report(
                report_dir,
                scores_N=score_N,
                given_N=ds.classes[ds.y_train],
                suggested_N=ds.classes[suggested],
                flagged_N=flagged,
                summary={k: v for k, v in result.items() if k != "flagged_indices"},
                features_NxD=ds.x_train,
                image_shape=image_shape or _built_in_shape(ds),
            )
        if verdict["worse_beyond_noise"] and not allow_worse:
            raise RepairRefused(
                f"the repaired model is worse on the {holdout}: accuracy "
                f"{verdict['holdout_accuracy_before']:.4f} -> "
                f"{verdict['holdout_accuracy_after']:.4f} ({verdict['holdout_lost']} samples "
                f"lost, {verdict['holdout_gained']} gained; sign test p = "
                f"{verdict['worse_p_value']:.2g}). {out_path} was not written. Try another "
                "unlearner (--unlearner finetune), a smaller --ratio, or --allow-worse"
            )
        atomic.write_bytes(out_path, staged.read_bytes())
        if info_path is not None:
            # The repair's own account: the ratio it flagged by, not the dataset file's.
            dataset_ratio = info["ratio"]
            info |= {"ratio": result["ratio"], "ratio_estimated": result["ratio_estimated"]}
            atomic.write_json(info_path, info | {"dataset_noise_ratio": dataset_ratio})
    return result


def _with_holdout(
    ds: NoisyDataset,
    dataset_path: PathLike,
    fraction: float,
    seed: int | None,
    tmp: Path,
    log: Callable[[str], None],
) -> tuple[Path, NoisyDataset, np.ndarray, str]:
    """The dataset to score and unlearn on (its file and itself), the training indices it
    keeps, and what judges the repair: its test split, which is the dataset's own if there
    is one; else a stratified holdout of the training samples, moved into the test split of
    a temporary copy."""
    if ds.y_test.size:
        holdout = f"test split ({ds.y_test.size} samples)"
        return Path(dataset_path), ds, np.arange(ds.y_train.size), holdout
    train, held = holdout_split(ds.y_train, fraction, 0 if seed is None else seed)
    work = ds._replace(
        x_train=ds.x_train[train],
        y_train=ds.y_train[train],
        y_clean=ds.y_clean[train],
        flipped=ds.flipped[train],
        x_test=ds.x_train[held],
        y_test=ds.y_train[held],
    )
    path = tmp / "scored.npz"
    save_dataset(path, work)
    holdout = split_holdout_name(held.size)
    log(f"no test split: a {holdout} judges the repair; it is never scored nor unlearned")
    return path, work, train, holdout


def _built_in_shape(ds) -> tuple[int, int] | None:
    """The image shape of a built-in dataset's samples, if they are its whole images."""
    shape = BUILT_IN_IMAGES.get(ds.dataset)
    return shape if shape and shape[0] * shape[1] == ds.x_train.shape[1] else None


def _judge(work: NoisyDataset, ds: NoisyDataset, model_path: PathLike, repaired_path: PathLike):
    """The verdict (`repair_head.judge`) on the test split of `work`, the dataset the repair
    ran on; and the repaired model's predicted class index of every training sample of
    `ds`."""
    from mislabel.data.subset import to_float
    from mislabel.files.checkpoint import load_model
    from mislabel.model import predict

    before = load_model(model_path)
    after = load_model(repaired_path)
    suggested = np.asarray(predict(after.model, after.state.params, to_float(ds.x_train)))
    x_hold = to_float(work.x_test)
    verdict = judge(
        work.y_test,
        np.asarray(predict(before.model, before.state.params, x_hold)),
        np.asarray(predict(after.model, after.state.params, x_hold)),
    )
    return verdict, suggested


def _result(ds, flagged, row, info, rows, verdict, ratio, detector, unlearner) -> dict:
    """What `repair_model` returns (see its docstring)."""
    idx = np.flatnonzero(flagged)
    given = ds.classes[ds.y_train[idx]]
    estimated = ratio is None
    result = {
        "n": int(flagged.size),
        "m": int(idx.size),
        "ratio": ratio if ratio is not None else row["estimated_ratio"],
        "ratio_estimated": estimated,
        "detector": detector,
        "method": unlearner,
        "flagged_indices": idx.tolist(),
        "flagged_per_given_class": {str(c): int((given == c).sum()) for c in ds.classes.tolist()},
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
    return result | verdict
