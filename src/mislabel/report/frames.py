"""The result summaries as data frames: reading and checking them, and selecting from them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mislabel import registry
from mislabel.files.legacy import unlearner_columns
from mislabel.report.labels import EXT_DETECTORS, ordered

# The names the paper reports, in its order; Tables 5.1-5.3 and their curves show only these.
PAPER_DETECTORS: tuple[str, ...] = registry.PAPER_DETECTORS
PAPER_UNLEARNERS: tuple[str, ...] = ("pretrained", *registry.PAPER_UNLEARNERS)
PAPER_TARGETS: tuple[str, ...] = ("mislabeled", "detected")

# The columns each renderer needs of a summary (any others are kept).
DETECTION_COLUMNS: tuple[str, ...] = (
    "dataset",
    "ratio",
    "seed",
    "detector",
    "roc_auc",
    "accuracy",
    "precision",
)
UNLEARNING_COLUMNS: tuple[str, ...] = (
    "dataset",
    "ratio",
    "seed",
    "unlearner",
    "target",
    "test_accuracy",
)
# Of the leave-k-out summary (`mislabel.stages.loo` writes more), and its row key.
LOO_REQUIRED_COLUMNS: tuple[str, ...] = (
    "dataset",
    "scope",
    "seed",
    "n_removed",
    "n_runs",
    "pearson",
    "spearman",
)
LOO_KEYS: tuple[str, ...] = ("dataset", "ratio", "scope", "seed", "n_removed")
_STRING_COLUMNS = ("dataset", "detector", "unlearner", "target", "scope", "curvature")
_KEY_COLUMNS = ("dataset", "ratio", "seed", "detector", "unlearner", "target")
_BOOLEAN_TEXT = {"true": 1.0, "false": 0.0}


def load_results(
    path: str | os.PathLike,
    required: Sequence[str],
    *,
    dataset: str,
    keys: Sequence[str] = _KEY_COLUMNS,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Read a result CSV, check its columns and keys, and keep the rows of `dataset`.

    Args:
      required: columns that must be present; those not named in `_STRING_COLUMNS` must be
        numeric.
      keys: the columns (those present) that identify a row; duplicates are an error.
      allow_empty: return an empty frame instead of raising when `dataset` has no rows.
    """
    df = unlearner_columns(pd.read_csv(path, keep_default_na=False, na_values=["", "nan", "NaN"]))
    missing = [col for col in required if col not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing required column(s) {', '.join(missing)}")
    for col in df.columns:
        if col in _STRING_COLUMNS:
            df[col] = df[col].astype(str)
    for col in required:
        if col not in _STRING_COLUMNS:
            try:
                df[col] = pd.to_numeric(df[col])
            except (ValueError, TypeError) as err:
                raise ValueError(f"{path}: column {col!r} is not numeric: {err}") from err
    rows = df[df["dataset"] == dataset]
    if rows.empty and not allow_empty:
        present = sorted(df["dataset"].unique().tolist())
        raise ValueError(f"{path}: no rows for dataset {dataset!r} (datasets present: {present})")
    present_keys = [col for col in keys if col in rows.columns]
    dup = rows.duplicated(subset=present_keys, keep=False)
    if dup.any():
        first = rows.loc[dup, present_keys].iloc[0].to_dict()
        raise ValueError(f"{path}: duplicate rows for key {first}")
    return rows.reset_index(drop=True)


def numeric(df: pd.DataFrame, column: str) -> pd.Series:
    """`df[column]` as floats (True/False as 1/0); all NaN if the column is absent."""
    if column not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype=float)
    values = df[column]
    if values.dtype == object:
        values = values.map(lambda v: _BOOLEAN_TEXT.get(str(v).strip().lower(), v))
    try:
        return pd.to_numeric(values).astype(float)
    except (ValueError, TypeError) as err:
        raise ValueError(f"column {column!r} is not numeric: {err}") from err


def with_numeric(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of `df` with each of `columns` as floats (NaN where the CSV lacks it)."""
    out = df.copy()
    for column in columns:
        out[column] = numeric(df, column)
    return out


def has_values(df: pd.DataFrame, column: str) -> bool:
    """Whether `column` holds at least one finite value."""
    return bool(np.isfinite(numeric(df, column)).any())


def load_loo(path: str | os.PathLike | None, *, dataset: str) -> pd.DataFrame:
    """The leave-k-out validation rows of `dataset` (empty if `path` is None, an empty file,
    or has no rows for `dataset`, e.g. only the header of a skipped validation)."""
    if path is None or Path(path).stat().st_size == 0:
        return pd.DataFrame(columns=list(LOO_REQUIRED_COLUMNS))
    loo = load_results(path, LOO_REQUIRED_COLUMNS, dataset=dataset, keys=LOO_KEYS, allow_empty=True)
    return with_numeric(loo, ["slope"]) if "slope" in loo.columns else loo


def with_timing(unl: pd.DataFrame, timing_csv: str | os.PathLike | None) -> pd.DataFrame:
    """`unl` with the timing summary's `time_vs_retrain` joined on run, unlearner and target
    (unchanged without a timing summary, or if `unl` already has the column)."""
    if timing_csv is None or "time_vs_retrain" in unl.columns:
        return unl
    timing = pd.read_csv(timing_csv, keep_default_na=False, na_values=[""])
    timing = timing[timing["stage"] == "unlearn"].rename(columns={"name": "unlearner"})
    keys = ["dataset", "ratio", "seed", "unlearner", "target"]
    return unl.merge(timing[[*keys, "time_vs_retrain"]], on=keys, how="left")


def sorted_ratios(df: pd.DataFrame) -> list[float]:
    """Noise ratios present in `df`, ascending."""
    return sorted(float(r) for r in df["ratio"].unique())


def all_ratios(*frames: pd.DataFrame) -> list[float]:
    """Noise ratios present in any of `frames`, ascending."""
    return sorted({r for df in frames for r in sorted_ratios(df)})


def n_seeds(df: pd.DataFrame) -> int:
    """Number of distinct seeds in `df`."""
    return int(df["seed"].nunique())


def seeds_of(*frames: pd.DataFrame) -> int:
    """Number of distinct seeds over `frames`."""
    return len({s for df in frames for s in df["seed"].unique().tolist()})


def is_pretrained(df: pd.DataFrame) -> pd.Series:
    """True on the rows of the pre-trained model (unlearner pretrained, target none)."""
    return (df["unlearner"] == "pretrained") & (df["target"] == "none")


def paper_detection(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the paper's detectors (Table 5.1 and its curve)."""
    return df[df["detector"].isin(PAPER_DETECTORS)]


def paper_unlearning(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the paper's unlearners and forget sets (Tables 5.2, 5.3 and their curves)."""
    paper = df["unlearner"].isin(PAPER_UNLEARNERS) & df["target"].isin(PAPER_TARGETS)
    return df[is_pretrained(df) | paper]


def estimators(det: pd.DataFrame) -> list[str]:
    """Detectors that estimated the fraction of mislabeled samples, in extension order."""
    est = det[np.isfinite(numeric(det, "estimated_ratio"))]
    return ordered(est["detector"], EXT_DETECTORS)
