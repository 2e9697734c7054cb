"""Files written by mislabel 0.2.0, read as today's: that release called an unlearner a
``method`` (the ``method`` column of the unlearning summaries, the ``method`` key of an
unlearning info JSON). Today an info JSON may also hold ``method`` as a fact of the
curvature (``pinv``, ``damped``), beside its ``unlearner``; only a record without
``unlearner`` is read as 0.2.0's."""

from __future__ import annotations

from typing import Any

OLD_NAME, NAME = "method", "unlearner"


def unlearner_record(record: dict[str, Any]) -> dict[str, Any]:
    """An unlearning info record with its unlearner under ``unlearner`` (0.2.0: ``method``)."""
    if NAME in record or OLD_NAME not in record:
        return record
    return {(NAME if key == OLD_NAME else key): value for key, value in record.items()}


def unlearner_columns(frame):
    """A summary table (pandas) with its unlearner column named ``unlearner`` (0.2.0:
    ``method``)."""
    if NAME in frame.columns or OLD_NAME not in frame.columns:
        return frame
    return frame.rename(columns={OLD_NAME: NAME})
