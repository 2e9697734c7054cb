"""The paired non-inferiority judge (`mislabel.repair.judge`): Newcombe's hybrid score
interval for a change in accuracy, checked by simulation (its coverage), against the Wald
interval where that one is accurate, and at the edges where Wald breaks down."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mislabel.repair.judge import judge, not_worse, paired_change, wilson_interval


def pairs(both, lost, gained, neither):
    before = np.array([1] * both + [1] * lost + [0] * gained + [0] * neither, bool)
    after = np.array([1] * both + [0] * lost + [1] * gained + [0] * neither, bool)
    return before, after


def test_the_counts_and_the_change():
    change = paired_change(*pairs(80, 3, 9, 8))
    assert (change.n, change.lost, change.gained) == (100, 3, 9)
    assert change.accuracy_before == 0.83 and change.accuracy_after == 0.89
    assert change.change == pytest.approx(0.06)
    assert change.low < 0.06 < change.high


def test_wilson_interval_matches_its_closed_form():
    low, high = wilson_interval(8, 10, 1.96)
    # Wilson (1927): (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
    p, n, z = 0.8, 10, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (low, high) == pytest.approx((centre - half, centre + half))


def test_at_large_n_it_agrees_with_the_wald_interval():
    n, lost, gained = 100_000, 3_000, 3_600
    change = paired_change(*pairs(n - lost - gained - 5_000, lost, gained, 5_000))
    d = (gained - lost) / n
    se = math.sqrt((lost + gained) / n - d * d) / math.sqrt(n)  # Wald, paired
    assert change.low == pytest.approx(d - 1.959964 * se, abs=2e-4)
    assert change.high == pytest.approx(d + 1.959964 * se, abs=2e-4)


def test_where_wald_collapses_the_interval_stays_honest():
    nothing_changed = paired_change(*pairs(95, 0, 0, 5))
    assert nothing_changed.change == 0 and nothing_changed.low < 0 < nothing_changed.high
    all_right = paired_change(*pairs(0, 0, 20, 0))  # everything gained
    assert all_right.change == 1 and -1 <= all_right.low < 1 and all_right.high == 1


def test_coverage_by_simulation():
    """Draw paired outcomes with a known change in accuracy many times: the 95% interval
    covers the true change in 93-97.5% of the draws, for small and large samples."""
    rng = np.random.default_rng(0)
    for n, p_lost, p_gained in ((60, 0.05, 0.10), (400, 0.02, 0.03), (1200, 0.04, 0.02)):
        truth = p_gained - p_lost
        covered = 0
        draws = 2000
        for _ in range(draws):
            u = rng.random(n)
            lost, gained = u < p_lost, (u >= p_lost) & (u < p_lost + p_gained)
            right = rng.random(n) < 0.85
            before = np.where(lost, True, np.where(gained, False, right))
            after = np.where(lost, False, np.where(gained, True, right))
            change = paired_change(before, after)
            covered += change.low <= truth <= change.high
        assert 0.93 <= covered / draws <= 0.975, (n, covered / draws)


def test_the_rule_writes_only_above_minus_the_margin():
    change = paired_change(*pairs(900, 30, 20, 50))  # -1 point, interval about +-1.2
    assert change.low < -0.01 < change.high
    assert not not_worse(change, 0.01) and not_worse(change, 0.05)
    verdict = judge(*pairs(900, 30, 20, 50), margin_points=1.0, judged_on="a holdout")
    assert not verdict.ok and verdict.fields["judged_on"] == "a holdout"
    assert verdict.fields["interval_points"] == pytest.approx([100 * change.low, 100 * change.high])
    with pytest.raises(ValueError, match="margin"):
        judge(*pairs(1, 0, 0, 0), margin_points=-1, judged_on="x")


def test_bad_pairs_are_refused():
    with pytest.raises(ValueError, match="two"):
        paired_change(np.ones(3, bool), np.ones(4, bool))
    with pytest.raises(ValueError, match="no samples"):
        paired_change(np.ones(0, bool), np.ones(0, bool))
