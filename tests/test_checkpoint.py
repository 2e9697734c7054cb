"""Model files: a file of another format (PyTorch, pickle, NumPy, random bytes) is named as
such; a damaged mislabel model is reported as corrupt or truncated."""

from __future__ import annotations

import pickle
import re
import zipfile

import numpy as np
import pytest
from flax import serialization

from mislabel.files.checkpoint import ModelFileError, load_model, stored_training

NOT_OURS = (
    "is not a mislabel model file (expected msgpack from `mislabel train`, or a head .npz "
    "with W and b for `mislabel repair-head`); "
)


def write_torch_zip(path):
    """The layout of `torch.save` (a zip archive holding a pickle), written without torch."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"weight": [0.0]}))
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/data/0", b"\0" * 16)


def write_pickle(path):
    path.write_bytes(pickle.dumps({"W": np.zeros((3, 2))}))


def write_npz(path):
    np.savez(path, x=np.zeros(3))


def write_head_npz(path):
    np.savez(path, W=np.zeros((3, 2)), b=np.zeros(2))


def write_npy(path):
    np.save(path, np.zeros(3))


def write_plain_zip(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", "hello")


def write_random(path):
    path.write_bytes(bytes([0x00, 0xC1]) + np.random.default_rng(0).bytes(62))


def write_foreign_msgpack(path):
    path.write_bytes(serialization.msgpack_serialize({"params": {"w": np.zeros(2)}}))


@pytest.mark.parametrize(
    ("write", "name", "looks_like"),
    [
        (write_torch_zip, "model.pt", "it looks like a PyTorch (torch.save zip archive) file"),
        (write_pickle, "model.pkl", "it looks like a Python pickle"),
        (write_npz, "model.npz", "it looks like a NumPy .npz file"),
        (
            write_head_npz,
            "head.npz",
            "it looks like a NumPy .npz file with W and b: a head, for `mislabel",
        ),
        (write_npy, "model.npy", "it looks like a NumPy .npy file"),
        (write_plain_zip, "model.zip", "it looks like a zip archive file"),
        (write_random, "model.msgpack", "its first bytes (00 c1 "),
        (
            write_foreign_msgpack,
            "m.msgpack",
            "it is msgpack without the metadata of a mislabel-model-v1",
        ),
    ],
)
def test_a_file_of_another_format_is_named(write, name, looks_like, tmp_path):
    path = tmp_path / name
    write(path)
    with pytest.raises(ModelFileError, match=re.escape(f"{path} {NOT_OURS}{looks_like}")):
        load_model(path)
    assert stored_training(path) == {}


def test_random_bytes_say_how_to_recover(tmp_path):
    path = tmp_path / "m.msgpack"
    write_random(path)
    with pytest.raises(ModelFileError, match="match no format mislabel knows; if `mislabel"):
        load_model(path)


@pytest.mark.parametrize(
    "data",
    [
        b"\x83\xa4me",  # a model file cut inside its first key
        b"\x83\xa4meta\x81\xa6format\xa1",  # cut inside the metadata
    ],
)
def test_damaged_msgpack_is_corrupt_or_truncated(data, tmp_path):
    path = tmp_path / "m.msgpack"
    path.write_bytes(data)
    with pytest.raises(ModelFileError, match=r"corrupt or truncated \(.*re-run the train step"):
        load_model(path)


def test_an_empty_model_file_is_corrupt_or_truncated(tmp_path):
    (tmp_path / "m.msgpack").write_bytes(b"")
    with pytest.raises(ModelFileError, match=r"truncated \(the file is empty\); re-run the"):
        load_model(tmp_path / "m.msgpack")


def test_a_missing_model_file_is_named(tmp_path):
    with pytest.raises(ModelFileError, match="model file .*nope.msgpack does not exist"):
        load_model(tmp_path / "nope.msgpack")
