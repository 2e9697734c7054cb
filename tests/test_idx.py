"""IDX reader/writer: round trips and clear errors on broken files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from mislabel.files.idx import IdxFormatError, encode_idx, read_idx, write_idx


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(7, dtype=np.uint8),
        np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8),
        np.arange(-6, 6, dtype=np.int8).reshape(3, 4),
        np.arange(12, dtype=np.int16).reshape(2, 6) * 1000,
        np.arange(6, dtype=np.int32) * -100_000,
        np.linspace(-1, 1, 6, dtype=np.float32),
        np.linspace(-1, 1, 6, dtype=np.float64).reshape(2, 3),
        np.zeros((0, 28, 28), dtype=np.uint8),
    ],
)
def test_round_trip(tmp_path, array, compress):
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array, gzip=compress)
    out = read_idx(path)
    assert out.dtype == array.dtype.newbyteorder("=")
    assert out.shape == array.shape
    np.testing.assert_array_equal(out, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress


def test_gzip_detected_by_magic_not_name(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    gz_named_plain = tmp_path / "labels"
    gz_named_plain.write_bytes(gzip.compress(encode_idx(labels)))
    plain_named_gz = tmp_path / "labels.gz"
    plain_named_gz.write_bytes(encode_idx(labels))
    np.testing.assert_array_equal(read_idx(gz_named_plain), labels)
    np.testing.assert_array_equal(read_idx(plain_named_gz), labels)


def test_header_layout():
    data = encode_idx(np.zeros((2, 3), dtype=np.uint8))
    assert data[:4] == b"\x00\x00\x08\x02"
    assert data[4:12] == b"\x00\x00\x00\x02\x00\x00\x00\x03"
    assert len(data) == 12 + 6


@pytest.mark.parametrize("magic", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_bad_magic(tmp_path, magic):
    path = tmp_path / "bad"
    path.write_bytes(magic + b"\x00\x00\x00\x01" + b"\x00")
    with pytest.raises(IdxFormatError, match=rf"bad magic 0x{magic.hex()} in .*bad: not an IDX"):
        read_idx(path)


def test_truncated_payload(tmp_path):
    path = tmp_path / "train-images"
    path.write_bytes(encode_idx(np.zeros((10, 28, 28), dtype=np.uint8))[:-100])
    with pytest.raises(IdxFormatError, match=r"train-images is truncated: header says 7840 bytes"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(IdxFormatError, match="short is truncated"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(IdxFormatError, match="short is truncated"):
        read_idx(path)


def test_trailing_bytes(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(encode_idx(np.arange(4, dtype=np.uint8)) + b"junk")
    with pytest.raises(IdxFormatError, match=r"labels has 4 trailing bytes.*says 4 bytes.*found 8"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(encode_idx(np.arange(1000, dtype=np.uint8)))[:-20])
    with pytest.raises(IdxFormatError, match="cut.gz .*could not be decompressed"):
        read_idx(path)


def test_is_value_error(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"hello world!")
    with pytest.raises(ValueError):
        read_idx(path)


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match="cannot be written as IDX"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint32))
    assert not (tmp_path / "x").exists()
