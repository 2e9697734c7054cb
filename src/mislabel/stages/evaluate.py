"""Stage evaluate: test accuracy of the pre-trained and every unlearned model of one run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from mislabel.data import to_float
from mislabel.files.atomic import csv_text, write_text
from mislabel.files.checkpoint import load_model
from mislabel.files.legacy import unlearner_record
from mislabel.metrics import accuracy, agreement, balanced_accuracy, param_distance
from mislabel.network.mlp import predict
from mislabel.stages.common import PathLike, load_run


def evaluate_models(
    dataset_path: PathLike,
    pretrained_path: PathLike,
    unlearned: Sequence[tuple[PathLike, PathLike]],
    out_csv: PathLike,
    log=print,
) -> list[dict]:
    """Test accuracy of the pre-trained and each unlearned model; one CSV row per model.

    `unlearned` pairs (model file, info JSON). Where the model retrained on the true clean
    set (retrain / mislabeled) is among them, every row is also compared with it: test
    accuracy gap, test-prediction agreement and L2 distance of all parameters. Every row
    also has the L2 distance of its parameters to the pre-trained model's (how far the
    unlearner moved them) and, for closed-form updates, the configured `damping` beside the
    `damping_used` (raised where H + damping I was indefinite). Wall times
    stay out of the rows (they go to the timing summary), so a rerun writes the same bytes.
    """
    ds, pre = load_run(dataset_path, pretrained_path)
    x_test = jnp.asarray(to_float(ds.x_test))
    entries = [({"unlearner": "pretrained", "target": "none"}, pre)]
    for model_path, info_path in unlearned:
        info = unlearner_record(json.loads(Path(info_path).read_text()))
        loaded = load_model(
            model_path, expect_features=ds.x_train.shape[1], expect_classes=ds.n_classes
        )
        entries.append((info, loaded))
    preds = [np.asarray(predict(m.model, m.state.params, x_test)) for _, m in entries]
    by_key = {(i["unlearner"], i["target"]): k for k, (i, _) in enumerate(entries)}
    ref = by_key.get(("retrain", "mislabeled"))
    ref_accuracy = accuracy(ds.y_test, preds[ref]) if ref is not None else float("nan")
    nan = float("nan")
    rows = []
    for (info, loaded), pred in zip(entries, preds, strict=True):
        test_accuracy = accuracy(ds.y_test, pred)
        rows.append(
            {
                "dataset": ds.dataset,
                "ratio": ds.ratio,
                "seed": ds.seed,
                "unlearner": info["unlearner"],
                "target": info["target"],
                "test_accuracy": test_accuracy,
                "balanced_accuracy": balanced_accuracy(ds.y_test, pred),
                "agreement_with_retrain_clean": (
                    agreement(pred, preds[ref]) if ref is not None else nan
                ),
                "accuracy_gap_to_retrain_clean": test_accuracy - ref_accuracy,
                "param_l2_to_retrain_clean": (
                    param_distance(loaded.state.params, entries[ref][1].state.params)
                    if ref is not None
                    else nan
                ),
                "param_l2_to_pretrained": param_distance(loaded.state.params, pre.state.params),
                "m_forget": int(info.get("m_forget", 0)),
                "n_forget_mislabeled": int(info.get("n_forget_mislabeled", 0)),
                "cg_iterations": info.get("cg_iterations", nan),
                "cg_relative_residual": info.get("cg_relative_residual", nan),
                "cg_converged": info.get("cg_converged", nan),
                "damping": info.get("damping", nan),
                "damping_used": info.get("damping_used", nan),
            }
        )
        log(
            f"{info['unlearner']:>12s} / {info['target']:<18s} test accuracy "
            f"{rows[-1]['test_accuracy']:.4f}"
        )
    write_text(out_csv, csv_text(rows, list(rows[0])))
    return rows
