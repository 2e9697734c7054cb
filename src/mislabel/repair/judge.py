"""Is the repaired model no worse than the original? A paired non-inferiority judgement.

Both models predict the same samples (a holdout, or out-of-fold predictions of a
cross-fit, `mislabel.repair.crossfit`). Only the samples whose correctness differs carry
information: ``lost`` (right before, wrong after) and ``gained``. The change in accuracy
is ``(gained - lost) / n``; its confidence interval is Newcombe's hybrid score interval for
a difference of paired proportions (Newcombe 1998, "Improved confidence intervals for the
difference between binomial proportions based on paired data", Statistics in Medicine 17,
method 10): the Wilson score intervals of the two accuracies combined with the correlation
of the pairs. It stays inside [-1, 1] and, unlike the Wald interval, is not degenerate when
nothing or everything changed.

The rule (non-inferiority): write the repaired model only when the interval's lower end
lies above ``-margin``. Accuracy here is agreement with the labels as given to the judge,
which may themselves be wrong; the summary says which labels judged.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.stats import norm


class PairedChange(NamedTuple):
    """Accuracy before and after on the same n samples, the change and its interval."""

    n: int
    accuracy_before: float
    accuracy_after: float
    lost: int
    gained: int
    change: float
    low: float
    high: float
    confidence: float


def wilson_interval(successes: int, n: int, z: float) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def paired_change(right_before_N, right_after_N, confidence: float = 0.95) -> PairedChange:
    """The change in accuracy from `right_before_N` to `right_after_N` (bool, the same
    samples) with its two-sided `confidence` interval (Newcombe's method 10)."""
    before = np.asarray(right_before_N, bool)
    after = np.asarray(right_after_N, bool)
    if before.shape != after.shape or before.ndim != 1:
        raise ValueError(
            f"paired outcomes must be two (n,) arrays, got {before.shape} and {after.shape}"
        )
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    n = before.size
    if n == 0:
        raise ValueError("no samples to judge on")
    both = int(np.sum(before & after))
    lost = int(np.sum(before & ~after))
    gained = int(np.sum(~before & after))
    neither = n - both - lost - gained
    z = float(norm.ppf(0.5 + confidence / 2))
    p1, p2 = (both + lost) / n, (both + gained) / n  # accuracy before, after
    l1, u1 = wilson_interval(both + lost, n, z)
    l2, u2 = wilson_interval(both + gained, n, z)
    margins = (both + lost) * (gained + neither) * (both + gained) * (lost + neither)
    phi = (both * neither - lost * gained) / math.sqrt(margins) if margins else 0.0
    change = p2 - p1
    down = math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2))
    up = math.sqrt(max(0.0, (u2 - p2) ** 2 - 2 * phi * (u2 - p2) * (p1 - l1) + (p1 - l1) ** 2))
    return PairedChange(
        n,
        p1,
        p2,
        lost,
        gained,
        change,
        max(-1.0, change - down),
        min(1.0, change + up),
        confidence,
    )


def not_worse(change: PairedChange, margin: float) -> bool:
    """The non-inferiority rule: the interval's lower end lies above ``-margin``."""
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    return change.low > -margin


def describe(change: PairedChange) -> str:
    """One line for people: accuracies, the change and its interval, in points."""
    pct = int(round(change.confidence * 100))
    return (
        f"accuracy {100 * change.accuracy_before:.1f}% -> {100 * change.accuracy_after:.1f}% "
        f"on {change.n} samples: {100 * change.change:+.2f} points, {pct}% interval "
        f"[{100 * change.low:+.2f}, {100 * change.high:+.2f}] ({change.lost} lost, "
        f"{change.gained} gained)"
    )


def change_summary(change: PairedChange, margin: float) -> dict:
    """The judgement as summary fields, in accuracy points (`margin`: a fraction)."""
    return {
        "n_judged": change.n,
        "accuracy_before": change.accuracy_before,
        "accuracy_after": change.accuracy_after,
        "lost": change.lost,
        "gained": change.gained,
        "change_points": 100 * change.change,
        "interval_points": [100 * change.low, 100 * change.high],
        "confidence": change.confidence,
        "margin_points": 100 * margin,
        "not_worse": not_worse(change, margin),
    }


class Judgement(NamedTuple):
    """The change, what judged it, the summary fields and whether a repair may be written."""

    change: PairedChange
    judged_on: str
    fields: dict
    ok: bool


def judge(
    right_before_N, right_after_N, *, margin_points: float, judged_on: str, confidence: float = 0.95
) -> Judgement:
    """The paired change, judged by the non-inferiority rule with a margin in points."""
    if not margin_points >= 0:
        raise ValueError(f"margin must be >= 0 accuracy points, got {margin_points}")
    change = paired_change(right_before_N, right_after_N, confidence)
    fields = {"judged_on": judged_on, **change_summary(change, margin_points / 100)}
    return Judgement(change, judged_on, fields, not_worse(change, margin_points / 100))


def refusal(judgement: Judgement, margin_points: float, what: str) -> str:
    """Why a repair was refused, and what was not written, in one message."""
    return (
        f"the repair is not shown to be no worse: {describe(judgement.change)}, judged on "
        f"{judgement.judged_on}; the interval reaches below -{margin_points:g} points (the "
        f"margin). {what} Try a holdout, another unlearner or a larger margin, or allow a "
        "worse model"
    )


def crossfit_source(folds: int, n: int, how: str) -> str:
    """What judged a repair without a holdout."""
    return (
        f"out-of-fold predictions of a {folds}-fold cross-fit of the repair ({how}) over the "
        f"{n} training samples, against their given labels (which may be wrong)"
    )
