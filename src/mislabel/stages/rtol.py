"""Stage sweep_rtol: how the paper's closed-form updates move with the pseudo-inverse's
cut-off.

The paper's influence and SSSE steps invert the last layer's Hessian by a pseudo-inverse
that drops eigenvalues below ``rtol * max``; near-null curvature then drives the step. For
one run, each rtol of the sweep redoes both updates on both forget sets (the true flips
and the pipeline detector's flags) and records the test accuracy, the rank kept, and the
step's norm relative to the last layer's kernel. Reported only (`mislabel.report.curvature_tables`),
never used to choose anything: the test split judges nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mislabel.data import to_float
from mislabel.files.atomic import csv_text, write_text
from mislabel.network.mlp import predict
from mislabel.settings import CurvatureSettings, from_mapping
from mislabel.stages.common import PathLike, load_run
from mislabel.stages.unlearn import forget_mask
from mislabel.unlearn import unlearn

RTOL_UNLEARNERS = ("influence", "ssse")
RTOL_TARGETS = ("mislabeled", "detected")
RTOL_COLUMNS = (
    "dataset",
    "ratio",
    "seed",
    "unlearner",
    "target",
    "rtol",
    "rank",
    "step_norm_relative",
    "test_accuracy",
)


def _kernel(params) -> np.ndarray:
    return np.asarray(params["params"]["head"]["kernel"], np.float64)


def sweep_rtol(
    dataset_path: PathLike,
    model_path: PathLike,
    scores_path: PathLike,
    out_csv: PathLike,
    *,
    rtols: Sequence[float],
    curvature: Mapping | None = None,
    log=print,
) -> list[dict]:
    """One CSV row per (unlearner, target, rtol) of one run (see the module docstring)."""
    ds, loaded = load_run(dataset_path, model_path)
    base = from_mapping(CurvatureSettings, curvature)._replace(damping=0.0)
    x, x_test = to_float(ds.x_train), to_float(ds.x_test)
    kernel = _kernel(loaded.state.params)
    rows = []
    for target in RTOL_TARGETS:
        forget = forget_mask(target, ds, scores_path)
        for unlearner in RTOL_UNLEARNERS:
            for rtol in rtols:
                result = unlearn(
                    unlearner,
                    loaded.model,
                    loaded.state,
                    x,
                    ds.y_train,
                    forget,
                    seed=ds.seed,
                    curvature=base._replace(pinv_rtol=float(rtol)),
                )
                moved = np.linalg.norm(_kernel(result.state.params) - kernel)
                predicted = np.asarray(predict(loaded.model, result.state.params, x_test))
                rows.append(
                    {
                        "dataset": ds.dataset,
                        "ratio": ds.ratio,
                        "seed": ds.seed,
                        "unlearner": unlearner,
                        "target": target,
                        "rtol": float(rtol),
                        "rank": int(result.info["rank"]),
                        "step_norm_relative": float(moved / np.linalg.norm(kernel)),
                        "test_accuracy": float(np.mean(predicted == ds.y_test)),
                    }
                )
                log(
                    f"{unlearner} on {target}, rtol {rtol:g}: rank {rows[-1]['rank']}, step "
                    f"{rows[-1]['step_norm_relative']:.3g} x ||theta||, test accuracy "
                    f"{rows[-1]['test_accuracy']:.4f}"
                )
    write_text(out_csv, csv_text(rows, list(RTOL_COLUMNS)))
    return rows
