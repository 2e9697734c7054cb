"""The repair's defaults are chosen on validation splits carved from the training data
(`mislabel.repair.selection`, `mislabel.report.selection`), never on a test split."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mislabel.files.dataset import load_dataset_file, save_dataset
from mislabel.repair.selection import candidates, select_defaults, selection_rows
from mislabel.report.selection import chosen_default, selection_table
from mislabel.settings import RepairSettings, UnlearningSettings
from tests.test_cli import tiny_dataset

REPO = Path(__file__).resolve().parents[1]
TINY = dict(
    hidden=[8],
    unlearners=["ssse", "finetune", "neggrad_plus"],
    detector="loss",
    training={"batch_size": 8, "epochs": 2},
    unlearning={"finetune_epochs": 1, "neggrad_epochs": 1},
)


def test_the_selection_never_reads_the_test_split(tmp_path):
    """Its core takes no test arrays at all; and a dataset file whose test split is
    replaced by random samples and labels selects to the same bytes."""
    params = inspect.signature(selection_rows).parameters
    assert not [p for p in params if "test" in p]
    clean = tiny_dataset(tmp_path / "clean.npz", n=80, n_flips=8)
    ds = load_dataset_file(clean)
    rng = np.random.default_rng(9)
    poisoned = tmp_path / "poisoned.npz"
    save_dataset(
        poisoned,
        ds._replace(
            x_test=rng.integers(0, 256, ds.x_test.shape).astype(np.uint8),
            y_test=rng.permutation(ds.y_test),
        ),
    )
    rows = select_defaults(clean, tmp_path / "a.csv", **TINY, log=lambda _: None)
    select_defaults(poisoned, tmp_path / "b.csv", **TINY, log=lambda _: None)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    got = [
        (r["unlearner"], None if np.isnan(r["neggrad_momentum"]) else r["neggrad_momentum"])
        for r in rows
    ]
    assert got == candidates(TINY["unlearners"])  # ssse, finetune, neggrad_plus at 0 and 0.9
    assert {r["n_validation"] for r in rows} == {16} and {r["n_fit"] for r in rows} == {64}


def test_the_table_chooses_the_best_mean_among_what_both_commands_offer(tmp_path):
    rows = []
    scores = {
        ("ssse_full", None): 0.99,
        ("finetune", None): 0.95,
        ("neggrad_plus", 0.0): 0.97,
        ("neggrad_plus", 0.9): 0.90,
        ("relabel", None): 0.96,
    }
    for ratio in (0.1, 0.3):
        for (name, momentum), acc in scores.items():
            for seed in (0, 1):
                rows.append(
                    {
                        "dataset": "mnist",
                        "ratio": ratio,
                        "seed": seed,
                        "unlearner": name,
                        "neggrad_momentum": np.nan if momentum is None else momentum,
                        "validation_accuracy": acc - ratio / 10 + seed / 100,
                    }
                )
    path = tmp_path / "selection.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    text, unlearner, momentum = selection_table(path)
    assert (unlearner, momentum) == ("neggrad_plus", 0.0)  # ssse_full: model files only
    assert chosen_default(text) == ("neggrad_plus", 0.0)
    assert "SSSE (full) (model files only)" in text and "**NegGrad+, momentum 0**" in text


def test_the_defaults_are_the_committed_tables_choice():
    text = (REPO / "paper_tables" / "table_ext_default_selection.md").read_text()
    unlearner, momentum = chosen_default(text)
    assert RepairSettings().unlearner == unlearner
    assert UnlearningSettings().neggrad_momentum == pytest.approx(momentum)
