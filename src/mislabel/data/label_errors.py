"""Real label errors in the MNIST test set, as judged by people (`verified_errors`).

The 100 candidates of Northcutt et al. (2021) with their crowd votes, shipped as
``mislabel/paper_results/mnist_test_label_errors.csv`` (Apache 2.0, cleanlab/label-errors;
citation in the README beside it). A candidate with fewer than `MIN_VOTES_GIVEN` of its
5 votes for its given label is a verified error (15 of the 100).
"""

from __future__ import annotations

import csv
import io
import os
from importlib import resources
from typing import NamedTuple

import numpy as np

CSV_NAME = "mnist_test_label_errors.csv"
COLUMNS = (
    "test_index",
    "given_label",
    "suggested_label",
    "votes_given",
    "votes_suggested",
    "votes_neither",
)
MIN_VOTES_GIVEN = 3
N_TEST = 10_000


class LabelErrors(NamedTuple):
    """The K candidates: index into the test set, labels, votes and the verified mask (K,)."""

    index_K: np.ndarray
    given_K: np.ndarray
    suggested_K: np.ndarray
    votes_given_K: np.ndarray
    verified_K: np.ndarray  # bool: fewer than MIN_VOTES_GIVEN votes for the given label


def _read_text(path: str | os.PathLike | None) -> str:
    if path is not None:
        with open(path, encoding="utf-8") as f:
            return f.read()
    return resources.files("mislabel").joinpath("paper_results", CSV_NAME).read_text("utf-8")


def verified_errors(path: str | os.PathLike | None = None) -> LabelErrors:
    """The MNIST test-set candidates and which of them are verified errors.

    Args:
      path: a CSV of the same columns; default the copy shipped with the package.
    Raises:
      ValueError: missing columns, indexes outside 0..9999 or repeated, labels outside 0..9.
    """
    rows = list(csv.DictReader(io.StringIO(_read_text(path))))
    missing = set(COLUMNS) - set(rows[0] if rows else {})
    if missing:
        raise ValueError(f"label-error table lacks the columns {sorted(missing)}")
    table = {c: np.array([int(r[c]) for r in rows], np.int64) for c in COLUMNS}
    index = table["test_index"]
    if index.min() < 0 or index.max() >= N_TEST or len(np.unique(index)) != len(index):
        raise ValueError(f"test indexes must be unique and in 0..{N_TEST - 1}")
    for c in ("given_label", "suggested_label"):
        if table[c].min() < 0 or table[c].max() > 9:
            raise ValueError(f"{c} must be in 0..9")
    return LabelErrors(
        index,
        table["given_label"],
        table["suggested_label"],
        table["votes_given"],
        table["votes_given"] < MIN_VOTES_GIVEN,
    )
