"""Stage loo: predicted vs actual leave-one-out loss changes on a small MLP."""

from __future__ import annotations

from collections.abc import Mapping

from mislabel.data import to_float
from mislabel.files.atomic import csv_text, write_text
from mislabel.files.dataset import load_dataset_file
from mislabel.loo import validate_influence
from mislabel.settings import CurvatureSettings, TrainConfig, from_mapping
from mislabel.stages.common import PathLike, facts_text

LOO_COLUMNS = (
    "dataset",
    "ratio",
    "seed",
    "scope",
    "n",
    "n_removed",
    "n_runs",
    "pearson",
    "spearman",
    "slope",
    "mean_abs_actual",
    "eig_max_residual",
    "eig_max_relative_residual",
    "eig_matvecs",
)


def loo_run(
    dataset_path: PathLike,
    out_csv: PathLike,
    *,
    samples: int = 40,
    curvature: Mapping | None = None,
    training: Mapping | None = None,
    log=print,
) -> list[dict]:
    """Predicted vs actual leave-one-out loss change on a small MLP (`mislabel.loo`).

    Writes one row per curvature scope; with `samples == 0` only the header (not run).
    """
    ds = load_dataset_file(dataset_path)
    rows = []
    if samples > 0:
        found, facts = validate_influence(
            to_float(ds.x_train),
            ds.y_train,
            ds.flipped,
            ds.n_classes,
            samples=int(samples),
            seed=ds.seed,
            train_config=from_mapping(TrainConfig, training),
            curvature=from_mapping(CurvatureSettings, curvature),
        )
        log(f"leave-one-out run: {facts_text(facts)}")
        for row in found:
            rows.append({"dataset": ds.dataset, "ratio": ds.ratio, "seed": ds.seed, **row})
            log(
                f"{row['scope']:>12s}: Pearson {row['pearson']:.3f}, Spearman "
                f"{row['spearman']:.3f} over {row['n_runs']} removals"
            )
    else:
        log("loo_samples is 0: the leave-one-out validation is skipped")
    write_text(out_csv, csv_text(rows, list(LOO_COLUMNS)))
    return rows
