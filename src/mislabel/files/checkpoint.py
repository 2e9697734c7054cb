"""Saving and loading trained models (flax.serialization msgpack), validated on load.

A model file holds ``{"meta": {...}, "params": ..., "opt_state": ...}``: the architecture
(hidden sizes, input features, classes) travels with the weights, so loading checks the
file against what the caller expects and refuses a mismatch with a clear message.
"""

from __future__ import annotations

import io
import os
import zipfile
from typing import Any, NamedTuple

import jax
import numpy as np
from flax import serialization

from mislabel.files.atomic import write_bytes
from mislabel.network.mlp import MLP, make_model
from mislabel.network.train import TrainState, new_state
from mislabel.settings import TrainConfig

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


def _foreign(path: str | os.PathLike, looks_like: str) -> ModelFileError:
    """The error for a file that is not a mislabel model; `looks_like` ends the sentence."""
    return ModelFileError(
        f"{path} is not a mislabel model file (expected msgpack from `mislabel train`, or a "
        f"head .npz with W and b for `mislabel repair-head`); {looks_like}"
    )


def _zip_kind(data: bytes) -> str:
    """What a zip archive holds (a PyTorch checkpoint, a NumPy .npz, ...), as "... file"."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return "damaged zip archive file"
    if any(n.endswith("data.pkl") for n in names):
        return "PyTorch (torch.save zip archive) file"
    if names and all(n.endswith(".npy") for n in names):
        if {"W.npy", "b.npy"} <= set(names):
            return "NumPy .npz file with W and b: a head, for `mislabel repair-head`, not a model"
        return "NumPy .npz file"
    return "zip archive file"


def _foreign_kind(data: bytes) -> str | None:
    """The format of a file that is not msgpack, from its first bytes, as "... file"; None if
    unknown."""
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _zip_kind(data)
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "Python pickle file (pickle, joblib or an old torch.save)"
    magic = {
        b"\x93NUMPY": "NumPy .npy file",
        b"\x89HDF\r\n\x1a\n": "HDF5 file (e.g. Keras .h5)",
        b"\x1f\x8b": "gzip file",
    }
    for head, kind in magic.items():
        if data.startswith(head):
            return kind
    header = int.from_bytes(data[:8], "little")
    if len(data) > 8 and 2 <= header <= len(data) - 8 and data[8:9] == b"{":
        return "safetensors file"
    if data[:1] in (b"{", b"["):
        return "JSON or text file"
    return None


def read_model_file(path: str | os.PathLike) -> dict:
    """The raw contents of a model file: {"meta", "params", "opt_state"} (unvalidated).

    Raises:
      ModelFileError: missing or unreadable; another format (PyTorch, pickle, .npz, ...),
        named in the message; msgpack that is corrupt or truncated.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError as err:
        raise ModelFileError(f"model file {path} does not exist") from err
    except OSError as err:
        raise ModelFileError(f"model file {path} cannot be read ({err})") from err
    # A model file is a msgpack map whose first key is "meta" (even a truncated one).
    ours = data[:1] != b"" and 0x80 <= data[0] <= 0x8F and b"\xa4meta".startswith(data[1:6])
    kind = None if ours or not data else _foreign_kind(data)
    if kind is not None:
        raise _foreign(path, f"it looks like a {kind}")
    try:
        return serialization.msgpack_restore(data)
    except Exception as err:  # msgpack raises several types for corrupt data
        if ours or not data:
            reason = f"{type(err).__name__}: {err}" if data else "the file is empty"
            raise ModelFileError(
                f"model file {path} is corrupt or truncated ({reason}); "
                "re-run the train step that produced it"
            ) from err
        raise _foreign(
            path,
            f"its first bytes ({data[:8].hex(' ')}) match no format mislabel knows; if "
            "`mislabel train` wrote it, it is corrupt: re-run the train step that produced it",
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
    meta = raw.get("meta") if isinstance(raw, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _foreign(path, f"it is msgpack without the metadata of a {FORMAT} file")
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
