"""Leave-one-out validation of influence on a small MLP: the machinery and its ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from mislabel.loo import choose_removals, correlations, validate_influence
from mislabel.noise import inject_noise
from mislabel.settings import CurvatureSettings
from mislabel.train import TrainConfig
from tests.conftest import blobs


def test_removals_are_half_mislabeled_distinct_and_seeded():
    flipped = np.zeros(50, bool)
    flipped[[3, 7, 9]] = True
    idx = choose_removals(flipped, 8, seed=1)
    assert len(set(idx.tolist())) == 8 and flipped[idx].sum() == 3  # only 3 exist
    np.testing.assert_array_equal(idx, choose_removals(flipped, 8, seed=1))
    with pytest.raises(ValueError, match="cannot remove"):
        choose_removals(flipped, 51, seed=0)


def test_correlations_of_known_data():
    pred = np.array([1.0, 2.0, 3.0, 4.0])
    out = correlations(pred, 2 * pred)
    assert out["pearson"] == pytest.approx(1) and out["spearman"] == pytest.approx(1)
    assert out["slope"] == pytest.approx(2)


def test_influence_predicts_actual_leave_one_out_change():
    """On a small smooth problem, the CG (exact up to tol) prediction tracks reality."""
    x, y_clean = blobs(80, 6, seed=0, sep=2.0)
    y, flipped = inject_noise(y_clean, 2, 0.1, "exact", seed=0)
    rows, facts = validate_influence(
        (x - x.min()) / (x.max() - x.min()),
        y,
        flipped,
        2,
        samples=8,
        seed=0,
        train_config=TrainConfig(lr=0.05, batch_size=8, epochs=10),
        curvature=CurvatureSettings(full_damping=0.5, lanczos_rank=20),
        n_train=80,
        hidden=(4,),
        steps=(300, 150),
    )
    by_scope = {row["scope"]: row for row in rows}
    assert set(by_scope) == {"last_layer", "full", "full_lowrank"}
    assert facts["cg_converged"] and not facts["cg_negative_curvature"]
    assert by_scope["full"]["pearson"] > 0.9, rows
    assert all(-1 <= row["pearson"] <= 1 for row in rows)
    assert all(row["n_runs"] == 8 and row["n"] == 80 for row in rows)
