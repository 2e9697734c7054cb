"""Saving and loading trained models (flax.serialization msgpack), validated on load.

A model file holds ``{"meta": {...}, "params": ..., "opt_state": ...}``: the architecture
(hidden sizes, input features, classes) travels with the weights, so loading checks the
file against what the caller expects and refuses a mismatch with a clear message.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import jax
import numpy as np
from flax import serialization

from mislabel.files.atomic import write_bytes
from mislabel.model import MLP, make_model
from mislabel.train import TrainConfig, TrainState, new_state

FORMAT = "mislabel-model-v1"


class ModelFileError(ValueError):
    """A model file is missing, corrupt, truncated or of the wrong architecture."""


class LoadedModel(NamedTuple):
    """A model rebuilt from a file: the Flax module, its training state and metadata."""

    model: MLP
    state: TrainState
    meta: dict


def save_model(
    path: str | os.PathLike,
    model: MLP,
    state: TrainState,
    n_features: int,
    extra: dict | None = None,
) -> None:
    """Write the model's architecture, parameters and optimiser state atomically."""
    meta = {
        "format": FORMAT,
        "hidden": list(model.hidden),
        "n_classes": model.n_classes,
        "n_features": int(n_features),
        **(extra or {}),
    }
    params, opt_state = jax.device_get((state.params, state.opt_state))  # one transfer
    payload = {"meta": meta, "params": params, "opt_state": serialization.to_state_dict(opt_state)}
    write_bytes(path, serialization.msgpack_serialize(payload))


def read_model_file(path: str | os.PathLike) -> dict:
    """The raw contents of a model file: {"meta", "params", "opt_state"} (unvalidated).

    Raises:
      ModelFileError: missing, unreadable or not msgpack.
    """
    try:
        with open(path, "rb") as fh:
            return serialization.msgpack_restore(fh.read())
    except FileNotFoundError as err:
        raise ModelFileError(f"model file {path} does not exist") from err
    except Exception as err:  # msgpack raises several types for corrupt data
        raise ModelFileError(
            f"model file {path} is corrupt or truncated ({type(err).__name__}: {err}); "
            "re-run the train step that produced it"
        ) from err


def stored_training(path: str | os.PathLike) -> dict:
    """The SGD settings (lr, momentum, batch_size, epochs) recorded in a model file's
    metadata: those present, {} if the file cannot be read (whoever loads the model
    reports the real problem)."""
    try:
        meta = read_model_file(path)["meta"]
    except Exception:
        return {}
    if not isinstance(meta, dict):
        return {}
    return {k: meta[k] for k in TrainConfig._fields if k in meta}


def _shapes(tree: Any) -> Any:
    return jax.tree_util.tree_map(lambda a: tuple(np.shape(a)), tree)


def load_model(
    path: str | os.PathLike,
    config: TrainConfig | None = None,
    expect_features: int | None = None,
    expect_classes: int | None = None,
) -> LoadedModel:
    """Read and validate a model file.

    Raises:
      ModelFileError: unreadable, not a mislabel model, or an architecture that does not
        match its own metadata or the expected input features / classes.
    """
    raw = read_model_file(path)
    if not isinstance(raw, dict) or raw.get("meta", {}).get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a {FORMAT} file written by `mislabel train`")
    meta = raw["meta"]
    if expect_features is not None and meta["n_features"] != expect_features:
        raise ModelFileError(
            f"model {path} expects {meta['n_features']} input features, the dataset has "
            f"{expect_features}"
        )
    if expect_classes is not None and meta["n_classes"] != expect_classes:
        raise ModelFileError(
            f"model {path} has {meta['n_classes']} classes, the dataset has {expect_classes}"
        )
    model = make_model(meta["hidden"], meta["n_classes"])
    if config is None:  # the optimiser state's shape depends on momentum (none at 0)
        config = TrainConfig(momentum=float(meta.get("momentum", TrainConfig().momentum)))
    # Shapes only (no real initialisation: that costs ~60 small compiled ops per load).
    template = jax.eval_shape(lambda: new_state(model, 0, meta["n_features"], config))
    if _shapes(raw["params"]) != _shapes(jax.device_get(template.params)):
        raise ModelFileError(
            f"model {path}: parameter shapes {_shapes(raw['params'])} do not match the "
            f"architecture in its metadata (hidden={meta['hidden']})"
        )
    try:
        params = serialization.from_state_dict(template.params, raw["params"])
        opt_state = serialization.from_state_dict(template.opt_state, raw["opt_state"])
    except Exception as err:
        raise ModelFileError(f"model {path}: optimiser state does not match ({err})") from err
    return LoadedModel(model, TrainState(params, opt_state), meta)
