"""Files of mislabel 0.2.0, which called an unlearner a `method`, still read."""

from __future__ import annotations

import json

import pandas as pd

from mislabel.cli.inputs import read_info
from mislabel.files.legacy import unlearner_columns, unlearner_record
from mislabel.report.frames import load_results
from mislabel.stages.aggregate import aggregate_csv

OLD_ROWS = "dataset,ratio,seed,method,target,test_accuracy\nmnist,0.1,0,ssse,detected,0.97\n"


def test_an_old_unlearning_summary_reads_with_an_unlearner_column(tmp_path):
    path = tmp_path / "unlearning.csv"
    path.write_text(OLD_ROWS)
    df = load_results(path, ["unlearner", "test_accuracy"], dataset="mnist")
    assert df["unlearner"].tolist() == ["ssse"] and "method" not in df.columns
    out = tmp_path / "joined.csv"
    aggregate_csv([path], out, ["dataset", "ratio", "seed", "unlearner", "target"])
    assert out.read_text().splitlines()[0].startswith("dataset,ratio,seed,unlearner,target")


def test_an_old_info_file_reads_with_its_unlearner(tmp_path):
    path = tmp_path / "info.json"
    path.write_text(json.dumps({"method": "finetune", "target": "mislabeled", "seconds": 1.0}))
    assert read_info(path)["unlearner"] == "finetune"


def test_todays_files_keep_the_curvature_method_beside_the_unlearner():
    """Today's closed-form info holds the curvature's `method` (pinv) and the unlearner."""
    record = {"unlearner": "ssse", "method": "pinv", "target": "detected"}
    assert unlearner_record(record) == record
    frame = pd.DataFrame({"unlearner": ["ssse"], "method": ["pinv"]})
    assert list(unlearner_columns(frame).columns) == ["unlearner", "method"]
