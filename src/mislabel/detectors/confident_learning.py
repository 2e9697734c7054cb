"""Confident learning (Northcutt et al. 2021), the package's own implementation, on K-fold
cross-validation.

Confident learning needs out-of-sample predicted probabilities: each sample's
probabilities come from a model that never saw it. `cross_val_probs` trains the K fold models as one
vectorised program (`jax.vmap` of `mislabel.network.train.fit` over keep masks), then
`confident_scores` ranks the samples and estimates how many are mislabeled, so no known
noise ratio is needed. Higher score = more likely mislabeled, as every detector here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from mislabel.checks import check_labeled
from mislabel.detectors.base import Detection, DetectorInput
from mislabel.detectors.probabilities import calibrated_count, check_probs, self_confidence
from mislabel.network.mlp import MLP
from mislabel.network.train import TrainState, check_config, fit, fresh_start
from mislabel.settings import TrainConfig

QUALITY_METHOD = "self_confidence"
COUNT_METHOD = "off_diagonal_calibrated"


def _check_fold_count(folds: int, n: int) -> None:
    if int(folds) != folds or folds < 2:
        raise ValueError(f"folds must be an integer >= 2, got {folds}")
    if folds > n:
        raise ValueError(f"cannot split {n} samples into {folds} folds")


def fold_assignment(y_N: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold index (0..K-1) of every sample, shape (N,): seeded, stratified, near-equal.

    A random permutation is sorted (stably) by label and dealt round-robin to the folds, so
    every class is spread evenly and fold sizes differ by at most one.
    """
    y_N = np.asarray(y_N)
    n = y_N.shape[0]
    _check_fold_count(folds, n)
    perm_N = np.random.default_rng(seed).permutation(n)
    order_N = perm_N[np.argsort(y_N[perm_N], kind="stable")]
    fold_N = np.empty(n, np.int32)
    fold_N[order_N] = np.arange(n) % int(folds)
    return fold_N


def check_folds(fold_N: np.ndarray, folds: int, n: int) -> np.ndarray:
    """Validate an explicit fold assignment (every fold 0..K-1 non-empty); return int32."""
    fold_N = np.asarray(fold_N)
    _check_fold_count(folds, n)
    if fold_N.shape != (n,) or not np.issubdtype(fold_N.dtype, np.integer):
        raise ValueError(f"fold_N must be integers of shape ({n},), got {fold_N.shape}")
    counts = np.bincount(fold_N[(fold_N >= 0) & (fold_N < folds)], minlength=folds)
    if counts.sum() != n or counts.min() == 0:
        raise ValueError(f"fold_N must use every fold 0..{folds - 1} and no other, got {counts}")
    return fold_N.astype(np.int32)


@partial(jax.jit, static_argnames=("model", "config"))
def fold_probs(
    model: MLP,
    states: TrainState,
    x_NxD: jax.Array,
    y_N: jax.Array,
    keep_KxN: jax.Array,
    keys_K: jax.Array,
    config: TrainConfig,
) -> jax.Array:
    """Train K models at once (`fit` vmapped over the leading axis of states, masks, keys).

    Returns:
      probs_KxNxC: softmax predictions of model k on every sample.
    """

    def one(state: TrainState, keep_N: jax.Array, key: jax.Array) -> jax.Array:
        state, _ = fit(model, state, x_NxD, y_N, keep_N, key, config)
        return jax.nn.softmax(model.apply(state.params, x_NxD), axis=-1)

    return jax.vmap(one)(states, keep_KxN, keys_K)


def cross_val_probs(
    hidden: Sequence[int],
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    n_classes: int,
    seed: int,
    config: TrainConfig,
    folds: int = 5,
    *,
    fold_N: np.ndarray | None = None,
) -> np.ndarray:
    """Out-of-sample predicted probabilities from K-fold cross-validation.

    Model k is ``train(make_model(hidden, C), x, y, seed, config, keep_N=fold_N != k)``
    (same initial weights and data-order key for every fold), with ``fold_N =
    fold_assignment(y, folds, seed)`` unless given; all K are trained in one vmapped
    program.

    Args:
      fold_N: optional explicit fold (0..folds-1) of every sample, shape (N,).
    Returns:
      probs_NxC (float64, rows sum to 1): row i from the model that did not train on i.
    """
    x_NxD, y_N = check_labeled(x_NxD, y_N, n_classes)
    n = y_N.shape[0]
    if fold_N is None:
        fold_N = fold_assignment(y_N, folds, seed)
    else:
        fold_N = check_folds(fold_N, folds, n)
    smallest = n - int(np.bincount(fold_N).max())
    if smallest < config.batch_size:
        raise ValueError(
            f"with {folds} folds of {n} samples the smallest training set has {smallest} "
            f"samples, fewer than batch_size {config.batch_size}; use fewer folds or a "
            "smaller batch"
        )
    check_config(config, smallest)
    model, state, data_key = fresh_start(hidden, n_classes, x_NxD.shape[1], seed, config)
    states = jax.tree_util.tree_map(lambda a: jnp.stack([a] * folds), state)
    keys_K = jnp.stack([data_key] * folds)
    keep_KxN = fold_N[None, :] != np.arange(folds)[:, None]
    probs_KxNxC = fold_probs(
        model, states, jnp.asarray(x_NxD), jnp.asarray(y_N), jnp.asarray(keep_KxN), keys_K, config
    )
    probs_NxC = np.asarray(probs_KxNxC, np.float64)[fold_N, np.arange(n)]
    return probs_NxC / probs_NxC.sum(axis=1, keepdims=True)


def confident_scores(y_N: np.ndarray, probs_NxC: np.ndarray) -> tuple[np.ndarray, int]:
    """Self-confidence scores and the calibrated confident-joint count of label issues.

    scores = 1 - p(given label) in [0, 1] (`mislabel.detectors.probabilities.self_confidence`);
    the count is `mislabel.detectors.probabilities.calibrated_count`, the cut-off for the
    ranking (flag the `count` highest scores with `mislabel.detect.flag_top`). The
    calibrated count rather than the plain off-diagonal one, which underestimates with few
    classes (the paper's task is binary). Both equal cleanlab 2.x's
    ``get_label_quality_scores(method="self_confidence")`` (as 1 - quality) and
    ``num_label_issues(estimation_method="off_diagonal_calibrated")``.

    Classes that no sample is predicted as (or labelled with) are legal: the confident
    joint simply has empty rows/columns. Labels of a single class are refused.

    Returns:
      (scores (N,) float64, estimated number of mislabeled samples, an int in [0, N]).
    """
    y_N, probs_NxC = check_probs(y_N, probs_NxC)
    if np.unique(y_N).size < 2:
        raise ValueError("confident learning needs labels of at least two distinct classes")
    return self_confidence(y_N, probs_NxC), calibrated_count(y_N, probs_NxC)


def confident_learning(
    hidden: Sequence[int],
    x_NxD: np.ndarray,
    y_N: np.ndarray,
    n_classes: int,
    seed: int,
    config: TrainConfig,
    folds: int = 5,
) -> tuple[np.ndarray, int, float, dict]:
    """Cross-validated probabilities, then `confident_scores`.

    Returns:
      (scores (N,), estimated count, estimated ratio = count / N,
       info {"folds", "seconds", "quality_method", "count_method"}).
    """
    start = time.perf_counter()
    probs_NxC = cross_val_probs(hidden, x_NxD, y_N, n_classes, seed, config, folds)
    scores_N, count = confident_scores(y_N, probs_NxC)
    info = {
        "folds": int(folds),
        "seconds": time.perf_counter() - start,
        "quality_method": QUALITY_METHOD,
        "count_method": COUNT_METHOD,
    }
    return scores_N, count, count / len(scores_N), info


def score(names: tuple[str, ...], inp: DetectorInput) -> dict[str, Detection]:
    """Confident-learning scores and count, from `cv_folds` folds trained like the model."""
    (name,) = names
    recipe = inp.training_recipe()
    scores, count, _, info = confident_learning(*recipe, inp.detection.cv_folds)
    return {
        name: Detection(np.asarray(scores, np.float64), int(count), {"cv_folds": info["folds"]})
    }
