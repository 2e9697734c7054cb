"""Repair a classifier from any framework through its last layer, and never silently worse.

`repair_head` takes what any classifier can export (the penultimate features of its
training samples, their given labels, and its last linear layer W, b; see `mislabel.head`)
and:

1. sets a holdout aside: the one given, or a stratified split of the training data
   (`holdout_fraction`), which the detector and the unlearning never see;
2. scores the other samples with a detector and flags the top m: ``m = round(n r)`` for a
   given ratio r, else the detector's own estimate (aum, cleanlab), else cleanlab's;
   more than half flagged is refused (`RepairRefused`), since such an estimate is not
   credible;
3. forgets the flagged samples with an unlearner, and
4. judges the repair on the holdout: accuracy before and after, and a one-sided sign test
   on the holdout samples whose correctness changed (`judge`). A repair that is worse
   beyond noise (p < `WORSE_P`) is refused unless ``allow_worse``.

The defaults are `mislabel.settings.RepairSettings`: the unlearner is the best by mean test
accuracy over the noise ratios after forgetting the detected samples in the project's own
measured table (`paper_tables/table_ext_unlearners_accuracy.tex`, MNIST 0 vs 1, 5 seeds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from scipy.stats import binomtest
from sklearn.model_selection import train_test_split

from mislabel.detect import budget, flag_top, score_detector
from mislabel.head import check_features, check_head, check_labels, head_arrays, head_model
from mislabel.model import predict
from mislabel.names import DETECTORS
from mislabel.settings import (
    CurvatureSettings,
    DetectionSettings,
    RepairSettings,
    UnlearningSettings,
)
from mislabel.train import TrainConfig, TrainState, make_optimizer
from mislabel.unlearn import check_method, unlearn

DEFAULTS = RepairSettings()
BUDGET_ESTIMATOR = "cleanlab"  # sets m when no ratio is given and the detector has no estimate
WORSE_P = DEFAULTS.worse_p


class RepairRefused(ValueError):
    """The repair would flag most of the data, or make the model worse; nothing written.

    `repair` holds the refused outcome (`HeadRepair`) when the repair ran, so that its
    report can still be written.
    """

    def __init__(self, message: str, repair: HeadRepair | None = None):
        super().__init__(message)
        self.repair = repair


class HeadRepair(NamedTuple):
    """The outcome: flags and scores over the training samples (holdout: not flagged, score
    NaN), the repaired W and b, the repaired model's predictions, and the summary."""

    flagged_N: np.ndarray
    scores_N: np.ndarray
    W: np.ndarray
    b: np.ndarray
    predicted_N: np.ndarray
    summary: dict


def holdout_split(y_N: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, holdout indices): a stratified split of the samples by label."""
    if not 0 < fraction < 1:
        raise ValueError(f"holdout_fraction must be in (0, 1), got {fraction}")
    counts = np.bincount(y_N)
    if (counts[counts > 0] < 2).any():
        rare = np.flatnonzero((counts > 0) & (counts < 2)).tolist()
        raise ValueError(
            f"classes {rare} have a single training sample, so no stratified holdout exists; "
            "give holdout_features and holdout_labels"
        )
    index = np.arange(y_N.size)
    train, held = train_test_split(index, test_size=fraction, stratify=y_N, random_state=seed)
    return np.sort(train), np.sort(held)


def split_holdout_name(size: int) -> str:
    """How a summary names a holdout split off the training data."""
    return f"stratified split of the training data ({size} samples)"


def judge(y_N, before_N, after_N) -> dict:
    """Holdout accuracy before and after, and whether after is worse beyond noise.

    Only the samples whose correctness changed carry information: ``lost`` became wrong,
    ``gained`` became right. Under "no change in accuracy" each is a fair coin, so the
    one-sided sign test ``P(X >= lost), X ~ Binomial(lost + gained, 1/2)`` is the p-value
    of "worse" (McNemar's exact test).
    """
    right_before, right_after = before_N == y_N, after_N == y_N
    lost = int(np.sum(right_before & ~right_after))
    gained = int(np.sum(~right_before & right_after))
    p = binomtest(lost, lost + gained, 0.5, alternative="greater").pvalue if lost else 1.0
    return {
        "holdout_accuracy_before": float(right_before.mean()),
        "holdout_accuracy_after": float(right_after.mean()),
        "holdout_lost": lost,
        "holdout_gained": gained,
        "worse_p_value": float(p),
        "worse_beyond_noise": bool(p < WORSE_P),
    }


def _budget(detection, detector, ratio, n, model, params, x, y, kwargs, log) -> tuple[int, str]:
    """m and where it came from."""
    if ratio is not None:
        return budget(n, ratio), f"ratio {ratio:g} given: round(n r)"
    if detection.m_estimated is not None:
        return int(detection.m_estimated), f"{detector}'s own estimate"
    log(f"no ratio given: {BUDGET_ESTIMATOR} estimates the number of mislabeled samples")
    estimate = score_detector(BUDGET_ESTIMATOR, model, params, x, y, **kwargs).m_estimated
    return int(estimate), f"{BUDGET_ESTIMATOR}'s estimate"


def repair_head(
    features_NxD: Any,
    labels_N: Any,
    W_DxC: Any,
    b_C: Any,
    *,
    holdout_features: Any = None,
    holdout_labels: Any = None,
    detector: str = DEFAULTS.detector,
    unlearner: str = DEFAULTS.unlearner,
    ratio: float | None = None,
    allow_worse: bool = False,
    holdout_fraction: float = DEFAULTS.holdout_fraction,
    seed: int = 0,
    train_config: TrainConfig | None = None,
    curvature: CurvatureSettings | None = None,
    detection: DetectionSettings | None = None,
    unlearning: UnlearningSettings | None = None,
    log: Callable[[str], None] = print,
) -> HeadRepair:
    """Flag the likely mislabeled training samples of a linear head and unlearn them.

    Raises:
      RepairRefused: more than half the scored samples flagged, or the repaired head worse
        on the holdout beyond noise (and not `allow_worse`).
      HeadError / ValueError: inputs that do not fit, named with the fix.
    """
    x = check_features(features_NxD)
    W, b = check_head(W_DxC, b_C, x.shape[1])
    n_classes = W.shape[1]
    y = check_labels(labels_N, x.shape[0], n_classes)
    if detector not in DETECTORS or detector == "aum":
        raise ValueError(
            f"detector {detector!r} cannot score a head: use one of "
            f"{', '.join(d for d in DETECTORS if d != 'aum')} (aum needs the training "
            "margins of every epoch, which an exported head does not have)"
        )
    check_method(unlearner)  # before any work
    if ratio is not None and not 0 < ratio < 0.5:
        raise ValueError(f"ratio must be in (0, 0.5), got {ratio}")
    if holdout_features is None and holdout_labels is None:
        train, held = holdout_split(y, holdout_fraction, seed)
        x_hold, y_hold = x[held], y[held]
        source = split_holdout_name(held.size)
    elif holdout_features is None or holdout_labels is None:
        raise ValueError("give both holdout_features and holdout_labels, or neither")
    else:
        train = np.arange(y.size)
        x_hold = check_features(holdout_features, "holdout features")
        if x_hold.shape[1] != x.shape[1]:
            raise ValueError(
                f"holdout features have {x_hold.shape[1]} columns, training features {x.shape[1]}"
            )
        y_hold = check_labels(holdout_labels, x_hold.shape[0], n_classes, "holdout labels")
        source = f"given ({y_hold.size} samples)"
    model, params = head_model(W, b)
    x_tr, y_tr = x[train], y[train]
    config = train_config or TrainConfig()
    kwargs = dict(seed=seed, train_config=config, curvature=curvature, detection=detection)
    found = score_detector(detector, model, params, x_tr, y_tr, **kwargs)
    m, budget_source = _budget(
        found, detector, ratio, y_tr.size, model, params, x_tr, y_tr, kwargs, log
    )
    if m > y_tr.size / 2:
        raise RepairRefused(
            f"{budget_source} flags {m} of {y_tr.size} samples, more than half: not a credible "
            "count of label errors (the detector disagrees with the head on most samples). "
            "Give a noise ratio (--ratio) or another detector; nothing was written"
        )
    flags = flag_top(found.scores_N, m)
    log(f"{detector}: flagged {m} of {y_tr.size} training samples ({budget_source})")
    state = TrainState(params, make_optimizer(config).init(params))
    settings = dict(train_config=config, curvature=curvature, unlearning=unlearning)
    result = unlearn(unlearner, model, state, x_tr, y_tr, flags, seed=seed, **settings)
    W_new, b_new = head_arrays(result.state.params)
    verdict = judge(
        y_hold,
        np.asarray(predict(model, params, x_hold)),
        np.asarray(predict(model, result.state.params, x_hold)),
    )
    summary = {
        "n_train": int(y.size),
        "n_scored": int(y_tr.size),
        "n_flagged": int(m),
        "budget": int(m),
        "budget_source": budget_source,
        "ratio": ratio if ratio is not None else m / y_tr.size,
        "detector": detector,
        "unlearner": unlearner,
        "holdout": source,
        **verdict,
        "allow_worse": bool(allow_worse),
        "refused": verdict["worse_beyond_noise"] and not allow_worse,
    }
    flagged_N = np.zeros(y.size, bool)
    flagged_N[train] = flags
    scores_N = np.full(y.size, np.nan)
    scores_N[train] = found.scores_N
    predicted = np.asarray(predict(model, result.state.params, x))
    repair = HeadRepair(flagged_N, scores_N, W_new, b_new, predicted, summary)
    if summary["refused"]:
        raise RepairRefused(
            f"the repaired model is worse on the holdout: accuracy "
            f"{verdict['holdout_accuracy_before']:.4f} -> {verdict['holdout_accuracy_after']:.4f}"
            f" ({verdict['holdout_lost']} samples lost, {verdict['holdout_gained']} gained; "
            f"sign test p = {verdict['worse_p_value']:.2g} < {WORSE_P}). The model was not "
            "written. Try another unlearner (e.g. finetune), a smaller ratio, or allow_worse "
            "(--allow-worse) to keep it anyway",
            repair,
        )
    return repair
