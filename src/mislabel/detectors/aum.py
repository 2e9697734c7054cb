"""Area Under the Margin (AUM, Pleiss et al. 2020) and its threshold-sample cut-off.

The margin of a sample is the logit of its assigned label minus the largest other logit
(`mislabel.network.mlp.margins`); AUM is its average over training. Mislabeled samples keep a low
(often negative) margin because the model fits them late, if at all.

Approximation: the paper averages the margin over every SGD iteration, on the minibatch
that contains the sample. We use the margins `mislabel.network.train.fit` records on the full
training set at the end of each epoch (`History.margin_ExN`), so AUM is a mean over E
epoch-end snapshots. Same idea, far cheaper, and the same for every sample.

Sign convention (the project's detectors rank highest score first): the score is
``-AUM``. A sample is flagged when ``AUM < threshold``, that is when
``score > -threshold`` (`aum_flags`). Alternatively flag the ``estimated_count`` highest
scores with `mislabel.detect.flag_top`.

Threshold samples: the paper picks its own cut-off without knowing the noise ratio. It
relabels floor(n / (C + 1)) random samples to a fake extra class C, trains a fresh
(C + 1)-class model, and takes the 99th percentile of those certainly-mislabeled samples'
AUM as the threshold. The fraction of the other samples whose AUM lies below it estimates
the fraction of mislabeled samples. The paper's datasets have 10 or more classes; with two
classes the fake class holds a third of the data, some threshold samples get fitted, and
the 99th percentile can overestimate badly (a lower `percentile`, e.g. 90, is steadier).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from mislabel.checks import check_labeled
from mislabel.detectors.base import Detection, DetectorInput
from mislabel.network.train import check_config, continue_training, fresh_start
from mislabel.noise import n_flips
from mislabel.settings import TrainConfig


class AumThreshold(NamedTuple):
    """Result of `aum_threshold`.

    Fields:
      threshold: AUM cut-off; a sample with AUM < threshold (score > -threshold) is flagged.
      estimated_count: round(estimated_ratio * n), an int in [0, n].
      estimated_ratio: fraction of the non-threshold samples with AUM below the threshold.
      n_threshold: number of threshold samples, floor(n / (C + 1)).
      info: {"percentile", "seconds", "threshold_accuracy", "n_below"}.
    """

    threshold: float
    estimated_count: int
    estimated_ratio: float
    n_threshold: int
    info: dict


def aum_scores(margin_ExN: np.ndarray) -> np.ndarray:
    """Anomaly scores ``-AUM``: minus the mean margin over epochs, shape (N,).

    The margins are those training records on the full training set at each epoch's end,
    not at every minibatch step as in the paper (an approximation of its per-iteration
    average; see the module docstring).

    Args:
      margin_ExN: margins recorded at the end of each of E epochs (`History.margin_ExN`).
    Returns:
      scores (N,) float64; higher = more likely mislabeled.
    """
    margin_ExN = np.asarray(margin_ExN, np.float64)
    if margin_ExN.ndim != 2 or margin_ExN.shape[0] < 1:
        raise ValueError(f"margins must have shape (E >= 1, N), got {margin_ExN.shape}")
    return -margin_ExN.mean(axis=0)


def aum_flags(scores_N: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean mask of samples with AUM < threshold, i.e. ``scores_N > -threshold``."""
    return np.asarray(scores_N) > -threshold


def threshold_samples(n: int, n_classes: int, seed: int) -> np.ndarray:
    """Indices of floor(n / (C + 1)) random samples (sorted) to relabel to fake class C."""
    count = n // (n_classes + 1)
    if count < 1:
        raise ValueError(f"{n} samples are too few for threshold samples of {n_classes} classes")
    return np.sort(np.random.default_rng(seed).choice(n, count, replace=False))


def _check_percentile(percentile: float) -> None:
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be in [0, 100], got {percentile}")


def threshold_from_aum(
    aum_N: np.ndarray, is_threshold_N: np.ndarray, percentile: float
) -> tuple[float, float]:
    """(threshold, estimated ratio) from the AUM of a threshold-sample run.

    threshold = `percentile` of the threshold samples' AUM (linear interpolation);
    ratio = fraction of the other samples whose AUM is strictly below it.
    """
    aum_N, is_threshold_N = np.asarray(aum_N, np.float64), np.asarray(is_threshold_N, bool)
    _check_percentile(percentile)
    if not is_threshold_N.any() or is_threshold_N.all():
        raise ValueError("need both threshold samples and other samples")
    threshold = float(np.percentile(aum_N[is_threshold_N], percentile))
    ratio = float(np.mean(aum_N[~is_threshold_N] < threshold))
    return threshold, ratio


def aum_threshold(
    model_hidden: Sequence[int],
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    n_classes: int,
    seed: int,
    config: TrainConfig,
    *,
    percentile: float = 99.0,
) -> AumThreshold:
    """Estimate the AUM cut-off and the number of mislabeled samples (no noise ratio needed).

    Trains a fresh ``make_model(model_hidden, C + 1)`` with `config` and `seed` (one jitted
    run from `mislabel.network.train.fresh_start`, as `train` does) on the data with
    floor(n / (C + 1)) random samples relabelled to fake class C (chosen with `seed`).

    Args:
      model_hidden: hidden layer widths of the MLP.
      x_NxD, y_N: training inputs and (possibly noisy) labels in 0..C-1.
      n_classes: C.
      seed: seeds the choice of threshold samples and the training run.
      config: optimiser settings, as for the detection model.
      percentile: percentile of the threshold samples' AUM taken as cut-off (paper: 99).
    Returns:
      AumThreshold; flag samples with AUM < threshold (`aum_flags`) or the
      `estimated_count` highest `aum_scores` (`mislabel.detect.flag_top`).
    """
    x_NxD, y_N = check_labeled(x_NxD, y_N, n_classes)
    n = y_N.shape[0]
    _check_percentile(percentile)
    check_config(config, n)
    start = time.perf_counter()
    idx = threshold_samples(n, n_classes, seed)
    is_threshold_N = np.zeros(n, bool)
    is_threshold_N[idx] = True
    y_fake_N = np.where(is_threshold_N, n_classes, y_N).astype(np.int32)
    model, state, data_key = fresh_start(model_hidden, n_classes + 1, x_NxD.shape[1], seed, config)
    _, history = continue_training(
        model, state, x_NxD, y_fake_N, np.ones(n, bool), data_key, config
    )
    aum_N = -aum_scores(history.margin_ExN)
    threshold, ratio = threshold_from_aum(aum_N, is_threshold_N, percentile)
    info = {
        "percentile": float(percentile),
        "seconds": time.perf_counter() - start,
        "threshold_accuracy": float(history.accuracy_E[-1]),
        "n_below": int(np.sum(aum_N[~is_threshold_N] < threshold)),
    }
    return AumThreshold(threshold, n_flips(ratio, n), ratio, int(idx.size), info)


def score(names: tuple[str, ...], inp: DetectorInput) -> dict[str, Detection]:
    """AUM scores from the training margins, and the count above its threshold."""
    (name,) = names
    if inp.margin_ExN is None:
        raise ValueError(f"detector {name!r} needs the training margins (margin_ExN)")
    est = aum_threshold(*inp.training_recipe(), percentile=inp.detection.aum_percentile)
    info = {"aum_threshold": est.threshold, "aum_n_threshold": est.n_threshold}
    return {name: Detection(aum_scores(inp.margin_ExN), int(est.estimated_count), info)}
