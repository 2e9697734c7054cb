"""Label-error scores from out-of-sample predicted probabilities alone (NumPy only).

Everything here needs only ``probs_NxC`` (row i: a model's class probabilities for sample
i, from a model that never trained on it) and the given labels ``y_N``. Higher score =
more likely mislabeled, as every detector of the package.

- `self_confidence`: 1 - p(given label), the loss ranking.
- `normalized_margin`: how far the given label trails the best other class.
- `confidence_weighted_entropy`: entropy of p over p(given label).
- `confident_learning`: members of the confident joint's off-diagonal first.

Confident learning (Northcutt, Jiang and Chuang, "Confident learning: estimating
uncertainty in dataset labels", JAIR 2021) is the package's own implementation:
`confident_joint` counts, per given label, the samples confidently of each class;
`calibrate_joint` scales every row to its label count and rounds it to integers that keep
the row total; `calibrated_count` is the calibrated joint's off-diagonal sum, the
estimated number of mislabeled samples. `mislabel.detectors.budget` estimates the same
number in other ways.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from mislabel.checks import check_labels

# Class thresholds are floored here, and p >= t - SLACK counts as confident.
THRESHOLD_FLOOR = 2e-6
SLACK = 1e-6
ABSENT_THRESHOLD = 2.0  # a class no sample is labelled with: nobody is confidently of it
PROB_SUM_TOL = 1e-3


def check_probs(
    y_N: np.ndarray, probs_NxC: np.ndarray, *, what: str = "probs"
) -> tuple[np.ndarray, np.ndarray]:
    """Validate labels and probabilities; return (y int64 (N,), probs float64, rows renormalised).

    `probs_NxC` must be 2-D N x C with C >= 2, finite, non-negative, every row summing to 1
    within `PROB_SUM_TOL`; `y_N` N integers in 0..C-1. A ValueError says what was wrong.
    """
    probs_NxC = np.asarray(probs_NxC)
    if probs_NxC.ndim != 2 or probs_NxC.shape[1] < 2 or probs_NxC.shape[0] < 1:
        raise ValueError(
            f"{what} must be a 2-D array N x C (one row of class probabilities per sample, "
            f"C >= 2 classes), got shape {probs_NxC.shape}"
        )
    if not np.issubdtype(probs_NxC.dtype, np.number) or np.issubdtype(
        probs_NxC.dtype, np.complexfloating
    ):
        raise ValueError(f"{what} must be real numbers, got dtype {probs_NxC.dtype}")
    n, c = probs_NxC.shape
    probs_NxC = probs_NxC.astype(np.float64)
    y_N = np.asarray(y_N)
    if y_N.shape != (n,):
        raise ValueError(
            f"labels must be 1-D with one label per row of {what} ({n}), got shape {y_N.shape}"
        )
    y_N = check_labels(y_N, n, c)
    if not np.all(np.isfinite(probs_NxC)):
        bad = int(np.flatnonzero(~np.isfinite(probs_NxC).all(axis=1))[0])
        raise ValueError(f"{what} must be finite; row {bad} holds NaN or Inf")
    if probs_NxC.min() < 0:
        bad = int(np.flatnonzero((probs_NxC < 0).any(axis=1))[0])
        raise ValueError(
            f"{what} must be non-negative (row {bad} is not); pass softmax probabilities, "
            "not logits"
        )
    sums_N = probs_NxC.sum(axis=1)
    off_N = np.abs(sums_N - 1)
    if off_N.max() > PROB_SUM_TOL:
        bad = int(np.argmax(off_N))
        raise ValueError(
            f"{what} rows must sum to 1 (within {PROB_SUM_TOL:g}); row {bad} sums to "
            f"{sums_N[bad]:.6g} (sums range {sums_N.min():.6g}..{sums_N.max():.6g}); pass "
            "probabilities (softmax of the logits), one column per class"
        )
    return y_N.astype(np.int64), probs_NxC / sums_N[:, None]


def given_prob(y_N: np.ndarray, probs_NxC: np.ndarray) -> np.ndarray:
    """p_i[y_i], shape (N,)."""
    return probs_NxC[np.arange(len(y_N)), y_N]


# ----------------------------------------------------------------------- confident joint


def class_thresholds(y_N: np.ndarray, probs_NxC: np.ndarray) -> np.ndarray:
    """t_j = mean of p_j over the samples labelled j, shape (C,).

    A class nobody is labelled with gets `ABSENT_THRESHOLD` (no sample is confidently of
    it); every threshold is floored at `THRESHOLD_FLOOR`.
    """
    c = probs_NxC.shape[1]
    t_C = np.array(
        [probs_NxC[y_N == j, j].mean() if np.any(y_N == j) else ABSENT_THRESHOLD for j in range(c)]
    )
    return np.maximum(t_C, THRESHOLD_FLOOR)


def confident_class(y_N: np.ndarray, probs_NxC: np.ndarray) -> np.ndarray:
    """The class each sample is confidently of, shape (N,), or -1 for none.

    Sample i is confidently of class j if p_ij >= t_j - `SLACK`; of several such classes
    the most probable one (the first on a tie) counts.
    """
    confident_NxC = probs_NxC >= class_thresholds(y_N, probs_NxC) - SLACK
    n_confident_N = confident_NxC.sum(axis=1)
    guess_N = np.where(n_confident_N > 1, probs_NxC.argmax(axis=1), confident_NxC.argmax(axis=1))
    return np.where(n_confident_N > 0, guess_N, -1)


def confident_joint(y_N: np.ndarray, probs_NxC: np.ndarray) -> np.ndarray:
    """C_CxC[given, confident]: how many samples of each given label are confidently of each
    class (`confident_class`), int64; the diagonal is at least 1."""
    c = probs_NxC.shape[1]
    guess_N = confident_class(y_N, probs_NxC)
    some = guess_N >= 0
    joint_CxC = np.zeros((c, c), np.int64)
    np.add.at(joint_CxC, (y_N[some], guess_N[some]), 1)
    np.fill_diagonal(joint_CxC, np.maximum(joint_CxC.diagonal(), 1))
    return joint_CxC


def round_row(row_C: np.ndarray) -> np.ndarray:
    """Integers near `row_C` with the row total (rounded) kept.

    Each entry is rounded to the nearest integer (halves to even); while the total is off
    by d, the |d| entries that rounding moved furthest the other way move one step
    (`np.argsort` order decides ties: the last of equals when stepping up, the first when
    stepping down).
    """
    ints_C = np.round(row_C)
    total = np.round(row_C.sum())
    while abs(np.round(ints_C.sum()) - total) > SLACK:
        diff = total - np.round(ints_C.sum())
        step = 1 if diff > 0 else -1
        order = np.argsort(row_C - ints_C)
        if step == 1:
            order = order[::-1]
        ints_C[order[: min(int(abs(diff)), len(row_C))]] += step
    return ints_C.astype(np.int64)


def calibrate_joint(joint_CxC: np.ndarray, y_N: np.ndarray) -> np.ndarray:
    """The confident joint with every row scaled to its label count, then the whole to N,
    each row rounded with `round_row` (int64, rows sum to the label counts)."""
    c = joint_CxC.shape[0]
    counts_C = np.bincount(y_N, minlength=c)
    rows_C = np.maximum(joint_CxC.sum(axis=1), 1e-100)
    scaled_CxC = joint_CxC / rows_C[:, None] * counts_C[:, None]
    # Summed column by column: the float total, and so the rounding ties, are then those of
    # the reference implementation (cleanlab 2.x) to the last bit.
    total = np.ascontiguousarray(scaled_CxC.T).sum()
    scaled_CxC = scaled_CxC / max(total, 1e-100) * counts_C.sum()
    return np.stack([round_row(row) for row in scaled_CxC])


def calibrated_count(y_N: np.ndarray, probs_NxC: np.ndarray) -> int:
    """Estimated number of mislabeled samples: the calibrated confident joint's off-diagonal
    share of the N samples, rounded to an integer in [0, N]."""
    y_N, probs_NxC = check_probs(y_N, probs_NxC)
    n = len(y_N)
    cal_CxC = calibrate_joint(confident_joint(y_N, probs_NxC), y_N)
    frac = 1.0 - cal_CxC.trace() / max(float(cal_CxC.sum()), 1e-100)
    return int(min(max(np.rint(frac * n), 0), n))


# ------------------------------------------------------------------------------- scores


def self_confidence(y_N: np.ndarray, probs_NxC: np.ndarray) -> np.ndarray:
    """1 - p_i[y_i] in [0, 1]: the given label's missing probability (the loss ranking)."""
    return 1.0 - given_prob(y_N, probs_NxC)


def normalized_margin(y_N: np.ndarray, probs_NxC: np.ndarray) -> np.ndarray:
    """(1 - (p_y - max_{k != y} p_k)) / 2 in [0, 1]: 1/2 where the given label ties the best
    other class, above where another class wins (Kuan and Mueller 2022, "Model-agnostic
    label quality scoring to detect real-world label errors", ICML DataPerf workshop)."""
    p_y = given_prob(y_N, probs_NxC)
    others_NxC = probs_NxC.copy()
    others_NxC[np.arange(len(y_N)), y_N] = -np.inf
    return (1.0 - (p_y - others_NxC.max(axis=1))) / 2.0


def confidence_weighted_entropy(y_N: np.ndarray, probs_NxC: np.ndarray) -> np.ndarray:
    """H(p_i) / log C / p_i[y_i] (p_y floored at 1e-12): high where the model is unsure and
    gives the label little weight (Kuan and Mueller 2022, as `normalized_margin`; they find
    it weaker than self-confidence and the margin on real noise, better on some tasks)."""
    p_NxC = np.clip(probs_NxC, 1e-300, None)
    entropy_N = -(probs_NxC * np.log(p_NxC)).sum(axis=1) / np.log(probs_NxC.shape[1])
    return entropy_N / np.maximum(given_prob(y_N, probs_NxC), 1e-12)


def confident_learning(y_N: np.ndarray, probs_NxC: np.ndarray) -> np.ndarray:
    """1 + self-confidence for the confident joint's off-diagonal members (confidently of
    another class than the given one), self-confidence for the rest: the off-diagonal
    first, each part in loss order (Northcutt et al. 2021, "confident_learning" filter)."""
    guess_N = confident_class(y_N, probs_NxC)
    off_N = (guess_N >= 0) & (guess_N != y_N)
    return off_N + self_confidence(y_N, probs_NxC)


# name: score function (y_N, probs_NxC) -> scores_N; the first is the default
PROB_DETECTORS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "self_confidence": self_confidence,
    "normalized_margin": normalized_margin,
    "confident_learning": confident_learning,
    "confidence_weighted_entropy": confidence_weighted_entropy,
}


# ------------------------------------------------------------------------------- budget


def margin_deficit_count(y_N: np.ndarray, probs_NxC: np.ndarray) -> int:
    """sum_i (max_k p_ik - p_i[y_i]), rounded: how much probability the given labels lack
    against the most probable class, summed. Zero where the model agrees with every label;
    about one per sample that the model confidently assigns to another class."""
    deficit_N = probs_NxC.max(axis=1) - given_prob(y_N, probs_NxC)
    return int(np.rint(deficit_N.sum()))


def blended_count(y_N: np.ndarray, probs_NxC: np.ndarray) -> int:
    """The mean of `calibrated_count` and `margin_deficit_count`, rounded half up.

    The calibrated count misses flips that the model learned to half believe (noise that
    depends on the sample: a flip to a look-alike class) and counts a weak model's own
    confusions as flips; the margin deficit undercounts high noise. Their mean had the
    smallest mean relative error against the true count of these and of the plain
    expected error sum_i (1 - p_i[y_i]), the argmax disagreement count and other weights
    (1/4, 3/4), on validation configurations of planted noise (`benchmarks/find_issues.py`
    documents the choice and reports the error on separate test configurations).
    """
    total = calibrated_count(y_N, probs_NxC) + margin_deficit_count(y_N, probs_NxC)
    return min(int(np.floor(total / 2 + 0.5)), len(y_N))


# name: (y_N, probs_NxC) -> estimated number of mislabeled samples; the first is the default
BUDGET_ESTIMATORS: dict[str, Callable[[np.ndarray, np.ndarray], int]] = {
    "blend": blended_count,
    "confident_learning": calibrated_count,
    "margin_deficit": margin_deficit_count,
}


# -------------------------------------------------------------------------- flagged set


def apportion(weights_K: np.ndarray, total: int) -> np.ndarray:
    """Non-negative integers proportional to the integer `weights_K` that sum to `total`.

    Each entry gets floor(w_k total / W) (W = sum of the weights, exact integer
    arithmetic), and the `total` minus their sum left over go one each to the largest
    remainders (the lower index first on a tie): Hamilton's largest-remainder rule. With
    `total` = W every entry is its weight. Zero weights get zero; all-zero weights get
    all zeros.
    """
    w_K = np.asarray(weights_K, np.int64)
    weight = int(w_K.sum())
    if weight == 0:
        return np.zeros_like(w_K)
    share_K, rem_K = np.divmod(w_K * int(total), weight)
    extra = int(total) - int(share_K.sum())
    share_K[np.argsort(-rem_K, kind="stable")[:extra]] += 1
    return share_K


def pair_cells(y_N: np.ndarray, probs_NxC: np.ndarray, total: int) -> np.ndarray:
    """How many samples to flag in each class pair: cells_CxC[given i, other j], int64.

    The calibrated confident joint's off-diagonal cells (`calibrate_joint`: n Q[i][j] of
    Northcutt et al. 2021, the number labelled i that belong to j), scaled to `total` by
    `apportion`; its own off-diagonal total gives its own cells. A row never asks for more
    samples than are labelled so: a row that would is given exactly its label count,
    apportioned over its cells, and the rest of `total` is spread over the other rows
    again. Where no cell has weight the remainder is not flagged (the cells may then sum
    to less than `total`). The diagonal is zero.
    """
    c = probs_NxC.shape[1]
    counts_C = np.bincount(y_N, minlength=c)
    off_CxC = calibrate_joint(confident_joint(y_N, probs_NxC), y_N)
    np.fill_diagonal(off_CxC, 0)
    cells_CxC = np.zeros((c, c), np.int64)
    free_C = off_CxC.sum(axis=1) > 0
    left = int(total)
    while left > 0 and free_C.any():
        share_RxC = apportion(off_CxC[free_C].ravel(), left).reshape(-1, c)
        rows_R = np.flatnonzero(free_C)
        over_R = share_RxC.sum(axis=1) > counts_C[rows_R]
        if not over_R.any():
            cells_CxC[rows_R] = share_RxC
            break
        for i in rows_R[over_R]:  # a full row: every sample labelled i
            cells_CxC[i] = apportion(off_CxC[i], counts_C[i])
            left -= int(counts_C[i])
            free_C[i] = False
    return cells_CxC


def assign_pairs(y_N: np.ndarray, probs_NxC: np.ndarray, cells_CxC: np.ndarray) -> np.ndarray:
    """The other class each sample is flagged towards, shape (N,), or -1 for none.

    Northcutt et al. (2021)'s prune by noise rate: in each cell (given i, other j) flag
    the cells_CxC[i, j] samples labelled i with the largest margin p_j - p_i. A sample
    may lead several cells of its row; here it is flagged once, in the order of the
    margins over all cells (largest first; ties: the lower sample, then the lower class),
    each (sample, class) taken while its cell has room and the sample is not yet
    flagged. Every cell then holds exactly its count, as long as no row asks for more
    than its label count (`pair_cells` ensures it): a cell left short would have a
    sample of its row left over, which the order reached while the cell had room.
    """
    n, c = probs_NxC.shape
    if np.any(cells_CxC.diagonal()) or cells_CxC.min() < 0:
        raise ValueError("cells must be non-negative with a zero diagonal")
    counts_C = np.bincount(y_N, minlength=c)
    demand_C = cells_CxC.sum(axis=1)
    if np.any(demand_C > counts_C):
        raise ValueError("a row of cells asks for more samples than are labelled so")
    margin_NxC = probs_NxC - given_prob(y_N, probs_NxC)[:, None]
    # Only the top (row demand) of a cell by margin can be reached before its row is full.
    sample_K, other_K = [], []
    for i, j in zip(*np.nonzero(cells_CxC), strict=True):
        members = np.flatnonzero(y_N == i)
        top = members[np.argsort(-margin_NxC[members, j], kind="stable")[: demand_C[i]]]
        sample_K.append(top)
        other_K.append(np.full(top.size, j))
    toward_N = np.full(n, -1, np.int64)
    if not sample_K:
        return toward_N
    sample_K, other_K = np.concatenate(sample_K), np.concatenate(other_K)
    order = np.lexsort((other_K, sample_K, -margin_NxC[sample_K, other_K]))
    room_CxC = cells_CxC.copy()
    for s, j in zip(sample_K[order].tolist(), other_K[order].tolist(), strict=True):
        if toward_N[s] < 0 and room_CxC[y_N[s], j] > 0:
            toward_N[s] = j
            room_CxC[y_N[s], j] -= 1
    return toward_N


class Flagging(NamedTuple):
    """A flagged set: flagged_N (bool, N) and, for the class-pair rules, the cell counts
    cells_CxC[given, other] it was asked to flag by class pair (else None)."""

    flagged_N: np.ndarray
    cells_CxC: np.ndarray | None


def flag_global(y_N: np.ndarray, probs_NxC: np.ndarray, scores_N: np.ndarray, m: int) -> Flagging:
    """The `m` highest scores, wherever they are (ties: the lower index first, as
    `mislabel.detect.flag_top`)."""
    flagged_N = np.zeros(len(scores_N), bool)
    flagged_N[np.argsort(-scores_N, kind="stable")[:m]] = True
    return Flagging(flagged_N, None)


def flag_per_class_pair(
    y_N: np.ndarray, probs_NxC: np.ndarray, scores_N: np.ndarray, m: int
) -> Flagging:
    """`m` samples spread over the class pairs as the confident joint spreads its
    off-diagonal (`pair_cells`), each pair's largest margins (`assign_pairs`); the
    scores are not used."""
    cells_CxC = pair_cells(y_N, probs_NxC, m)
    return Flagging(assign_pairs(y_N, probs_NxC, cells_CxC) >= 0, cells_CxC)


def flag_global_or_pair(
    y_N: np.ndarray, probs_NxC: np.ndarray, scores_N: np.ndarray, m: int
) -> Flagging:
    """Flagged by either rule: the global top `m` scores, and `flag_per_class_pair`'s `m`.

    The global cut finds the samples the model confidently puts elsewhere, whatever the
    class; the class pairs find flips concentrated in a pair, which the model learns to
    half believe and a global cut misses. Between m and 2m samples are flagged.
    """
    pair = flag_per_class_pair(y_N, probs_NxC, scores_N, m)
    return Flagging(
        flag_global(y_N, probs_NxC, scores_N, m).flagged_N | pair.flagged_N, pair.cells_CxC
    )


# name: (y_N, probs_NxC, scores_N, budget m) -> Flagging
FLAG_RULES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, int], Flagging]] = {
    "global_or_pair": flag_global_or_pair,
    "global": flag_global,
    "per_class_pair": flag_per_class_pair,
}
# The highest mean F1 on the validation configurations of `benchmarks/find_issues.py`
# (seed 0): without a ratio, with the estimated budget; with a ratio (there: the true
# count), where a ratio should fix how many are flagged.
DEFAULT_FLAG_BY = "global_or_pair"
RATIO_FLAG_BY = "global"
