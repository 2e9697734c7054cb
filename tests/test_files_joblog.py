"""Atomic writes and job logs: nothing half-written, errors that point to the log."""

from __future__ import annotations

import os

import pytest

from mislabel.files.atomic import atomic_path, save_npz, write_text
from mislabel.joblog import job_log


def test_atomic_write_leaves_nothing_behind_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"  # the previous version survives
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temp file


def test_atomic_write_creates_folders_and_normal_permissions(tmp_path):
    target = tmp_path / "a" / "b" / "c.npz"
    save_npz(target, x=[1, 2, 3])
    assert target.is_file()
    umask = os.umask(0)
    os.umask(umask)
    assert (target.stat().st_mode & 0o777) == (0o666 & ~umask)


def test_job_log_records_progress_and_points_to_the_log_on_failure(tmp_path):
    log_path = tmp_path / "logs" / "job.log"
    with pytest.raises(RuntimeError, match=f"full log: {log_path}"):
        with job_log(log_path, "score r=0.1") as log:
            log("step one")
            print("printed output goes to the log too")
            raise ValueError("bad thing")
    text = log_path.read_text()
    assert "step one" in text and "printed output goes to the log too" in text
    assert "Traceback" in text and "ValueError: bad thing" in text
    assert "FAILED" in text


def test_rules_never_use_shell_or_run_blocks():
    """Config values never reach a shell: every rule is a `script:` adapter."""
    from pathlib import Path

    rules = Path(__file__).resolve().parents[1] / "workflow" / "rules"
    for smk in rules.glob("*.smk"):
        text = smk.read_text()
        assert "shell:" not in text and "run:" not in text, smk.name


def test_csv_text_writes_what_pandas_writes():
    import pandas as pd

    from mislabel.files.atomic import csv_text

    rows = [
        {"name": "a,b", "n": 3, "x": 0.1234567891, "y": float("nan"), "ok": True},
        {"name": "plain", "n": 1234567, "x": 2, "y": 1e-12, "ok": False},
        {"name": 'q"uote', "n": 0, "x": 1.0, "ok": True},
    ]
    columns = ["name", "n", "x", "y", "ok"]
    want = pd.DataFrame(rows, columns=columns).to_csv(index=False, float_format="%.6g")
    assert csv_text(rows, columns) == want
    assert csv_text([], columns) == pd.DataFrame(columns=columns).to_csv(index=False)


def test_json_files_are_valid_json_with_null_for_nan(tmp_path):
    import json

    import numpy as np

    from mislabel.files.atomic import write_json

    path = tmp_path / "info.json"
    write_json(path, {"estimated_ratio": float("nan"), "x": [np.float64(np.inf), np.float32(0.5)]})
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"estimated_ratio": None, "x": [None, 0.5]}
