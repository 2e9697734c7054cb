"""What every stage shares: path types, loading a run's dataset and model, score files."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping

import numpy as np

from mislabel.files.dataset import load_dataset_file
from mislabel.settings import from_mapping

PathLike = str | os.PathLike


def load_run(dataset_path: PathLike, model_path: PathLike):
    """The dataset and a model checked against it (optimiser state as the model was trained)."""
    # Imported here: it imports JAX, and the JAX-free stages (aggregate, data) import common.
    from mislabel.files.checkpoint import load_model

    ds = load_dataset_file(dataset_path)
    loaded = load_model(
        model_path,
        expect_features=ds.x_train.shape[1],
        expect_classes=ds.n_classes,
    )
    return ds, loaded


def stored_train_config(meta: Mapping):
    """The SGD settings a model was trained with (from its metadata; paper defaults else)."""
    # Imported here: it imports JAX, and the JAX-free stages (aggregate, data) import common.
    from mislabel.settings import TrainConfig

    return from_mapping(TrainConfig, {k: meta[k] for k in TrainConfig._fields if k in meta})


def read_score_file(path: PathLike | None, key: str, what: str) -> np.ndarray:
    """One array of a score file (`score_samples`' output), with errors that say what to do."""
    if path is None:
        raise ValueError(f"{what} needs a score file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return np.asarray(npz[key])
    except FileNotFoundError as err:
        raise FileNotFoundError(f"score file {path} does not exist") from err
    except KeyError as err:
        raise ValueError(
            f"score file {path} has no {key!r} array; write it with `mislabel score`"
            + (
                " and a detector that estimates its budget (aum, cleanlab)"
                if key != "flagged"
                else ""
            )
        ) from err
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"score file {path} is corrupt or truncated ({err})") from err


def facts_text(facts: Mapping) -> str:
    """Facts for a progress line: ``name value`` pairs, numbers to 4 significant digits,
    empty values left out (``rank 49, max_eigenvalue 0.01234``)."""
    parts = []
    for key, value in facts.items():
        if value is None or value == "":
            continue
        if isinstance(value, float):
            value = f"{value:.4g}"
        parts.append(f"{key} {value}")
    return ", ".join(parts)
