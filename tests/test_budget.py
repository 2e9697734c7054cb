"""The detection budget m: the oracle (true number of flips) or round(n r)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from mislabel.detect import flag_top
from mislabel.metrics import detection_metrics
from mislabel.noise import inject_noise
from mislabel.stages.score import flag_budget


def noisy(ratio=0.05, seed=0, n=2000, mode="symmetric"):
    y = np.repeat([0, 1], n // 2)
    _, flipped = inject_noise(y, 2, ratio, mode, seed)
    return SimpleNamespace(flipped=flipped, ratio=ratio, noise_mode=mode)


def test_oracle_budget_is_the_number_of_flips_and_nominal_is_round_nr():
    ds = noisy()
    k = int(ds.flipped.sum())
    assert k != 100  # Bernoulli noise: not round(2000 * 0.05)
    assert flag_budget(ds, "oracle") == ("oracle", k, k / 2000)
    assert flag_budget(ds, "nominal") == ("nominal", 100, 0.05)
    assert flag_budget(ds, "nominal", 0.1) == ("nominal", 200, 0.1)
    assert flag_budget(ds, None) == ("oracle", k, k / 2000)  # the flips are known


def test_oracle_budget_makes_precision_equal_recall():
    ds = noisy(0.2, seed=3)
    scores = np.random.default_rng(0).normal(size=ds.flipped.size) + 2.0 * ds.flipped
    _, m, _ = flag_budget(ds, "oracle")
    got = detection_metrics(ds.flipped, scores, flag_top(scores, m))
    assert got["precision"] == pytest.approx(got["recall"])
    _, m, _ = flag_budget(ds, "nominal")
    got = detection_metrics(ds.flipped, scores, flag_top(scores, m))
    assert got["precision"] != pytest.approx(got["recall"])


def test_unknown_noise_has_no_oracle():
    ds = SimpleNamespace(flipped=np.zeros(10, bool), ratio=0.2, noise_mode="unknown")
    assert flag_budget(ds, None) == ("nominal", 2, 0.2)
    with pytest.raises(ValueError, match="does not know which labels are wrong"):
        flag_budget(ds, "oracle")
    with pytest.raises(ValueError, match="needs budget 'nominal'"):
        flag_budget(noisy(), "oracle", 0.1)
    with pytest.raises(ValueError, match="unknown budget 'exact'"):
        flag_budget(noisy(), "exact")
