"""Checks of the command line's arguments and files, before any work starts.

Value types for argparse (`positive_int`, `ratio_value`, ...) refuse a bad number with a
message that names the rule; the file checks name the role of the file they refuse. All
raise `CliError` or an `OSError` subclass: the errors `mislabel.cli.app` reports in one
line with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mislabel.checks import RATIO_RANGE
from mislabel.files.legacy import unlearner_record
from mislabel.registry import DETECTORS


class CliError(ValueError):
    """An argument or input file the command cannot use."""


# --------------------------------------------------------------------------- value types


def _number(text: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def checked_number(kind: type, ok: Callable[[Any], bool], message: str) -> Callable[[str], Any]:
    """An argparse type: parse `kind`, then refuse values where `ok` is false with `message`
    (formatted with the value)."""

    def parse(text: str) -> Any:
        value = _number(text, kind)
        if not ok(value):
            raise argparse.ArgumentTypeError(message.format(value=value))
        return value

    return parse


# epochs, batch size, sizes
positive_int = checked_number(int, lambda v: v >= 1, "must be a positive integer, got {value}")
# seeds, class ids
nonneg_int = checked_number(int, lambda v: v >= 0, "must be a non-negative integer, got {value}")
# every --ratio: one range (mislabel.checks.RATIO_RANGE)
ratio_value = checked_number(
    float,
    lambda v: RATIO_RANGE[0] <= v <= RATIO_RANGE[1],
    f"noise ratio must be in [{RATIO_RANGE[0]:g}, {RATIO_RANGE[1]:g}], got {{value}}",
)
RATIO_TEXT = f"in [{RATIO_RANGE[0]:g}, {RATIO_RANGE[1]:g}]"
# learning rate, tolerances
positive_float = checked_number(float, lambda v: v > 0, "must be positive, got {value}")
# damping
nonneg_float = checked_number(float, lambda v: v >= 0, "must be non-negative, got {value}")
momentum_value = checked_number(
    float, lambda v: 0 <= v < 1, "momentum must be in [0, 1), got {value}"
)


# --------------------------------------------------------------------------- files


def check_inputs(**paths: str | os.PathLike | None) -> None:
    """Raise FileNotFoundError naming the role of the first input that is not a file."""
    for role, path in paths.items():
        if path is None:
            continue
        p = Path(path)
        what = role.replace("_", " ")
        if p.is_dir():
            raise IsADirectoryError(f"{what} {p} is a directory, expected a file")
        if not p.is_file():
            raise FileNotFoundError(f"{what} {p} does not exist")


def check_outputs(*paths: str | os.PathLike | None, inputs: Sequence = ()) -> None:
    """Refuse outputs that collide with each other or an input, or cannot be written."""
    given = [Path(p) for p in paths if p is not None]
    seen: dict[Path, Path] = {}
    for p in given:
        key = p.resolve()
        if key in seen:
            raise CliError(f"two outputs go to the same file {p}; give each its own path")
        seen[key] = p
    for p in inputs:
        if p is not None and Path(p).resolve() in seen:
            raise CliError(f"output {p} would overwrite an input of the same command")
    for p in given:
        if p.is_dir():
            raise IsADirectoryError(f"output {p} is a directory, expected a file path")
        check_writable_dir(p.parent)


def check_writable_dir(directory: Path) -> None:
    """Raise unless `directory` exists writable or can be created."""
    existing = Path(directory).absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"cannot create folder {directory}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write into {existing}: permission denied")


def check_flags(scores_path: str | os.PathLike, n: int) -> None:
    """Refuse a score file without a readable `flagged` mask of the dataset's n samples."""
    from mislabel.stages.common import read_score_file

    flagged = read_score_file(scores_path, "flagged", "--scores")
    if flagged.shape != (n,):
        raise CliError(
            f"score file {scores_path} has {flagged.size} flags, the dataset {n} samples: "
            "they come from different runs"
        )


def read_info(path: str | os.PathLike) -> dict:
    """An unlearning info JSON written by `mislabel unlearn`, checked for evaluate."""
    try:
        info = unlearner_record(json.loads(Path(path).read_text()))
    except json.JSONDecodeError as err:
        raise CliError(f"info file {path} is not valid JSON ({err})") from err
    missing = [k for k in ("unlearner", "target", "seconds") if k not in info]
    if not isinstance(info, dict) or missing:
        raise CliError(f"info file {path} lacks {missing}; write it with `mislabel unlearn`")
    return info


def check_history(detector: str, history: str | None) -> None:
    """A detector that needs the training margins reads them from the history file `train`
    wrote (the registry's `needs_margins`)."""
    entry = DETECTORS.get(detector)
    if entry is not None and entry.needs_margins and history is None:
        raise CliError(
            f"--detector {detector} needs --history (the file written by `mislabel train`)"
        )


def check_report_dir(report_dir: str | os.PathLike, inputs: Sequence) -> None:
    """Refuse a report folder that holds one of the command's inputs (a report file could
    overwrite it), is a file, or cannot be written."""
    folder = Path(report_dir).resolve()
    for path in inputs:
        if path is None:
            continue
        resolved = Path(path).resolve()
        if folder == resolved or folder in resolved.parents:
            raise CliError(
                f"report folder {report_dir} holds the input {path}; give the report a folder "
                "of its own (a new or empty one)"
            )
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"report folder {report_dir} is a file")
    check_writable_dir(folder)
