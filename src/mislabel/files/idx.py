"""A tiny reader and writer for the IDX format (the file format of MNIST and Fashion-MNIST).

An IDX file is: two zero bytes, a dtype code, the number of dimensions `ndim`, then `ndim`
big-endian uint32 sizes, then the data in C order, big-endian. Files may be gzip-compressed;
compression is detected by the gzip magic bytes, never by the file name.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from mislabel.files.atomic import write_bytes

GZIP_MAGIC = b"\x1f\x8b"

# IDX dtype code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IdxFormatError(ValueError):
    """A file is not a well-formed IDX file (bad magic, truncated, trailing bytes, bad gzip)."""


def _decompress(raw: bytes, name: str) -> bytes:
    """Return `raw` gunzipped if it starts with the gzip magic bytes, else `raw` unchanged."""
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise IdxFormatError(
            f"{name} starts with the gzip magic bytes but could not be decompressed "
            f"({exc}); the download is probably truncated or corrupt, fetch it again"
        ) from exc


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the (already decompressed) bytes of an IDX file.

    Args:
      data: the whole file content, header included.
      name: the file name, used in error messages.

    Returns:
      The array, with the shape given in the header, in native byte order.
    """
    if len(data) < 4:
        raise IdxFormatError(
            f"{name} is truncated: an IDX header needs at least 4 bytes, found {len(data)}"
        )
    magic = data[:4]
    code, ndim = magic[2], magic[3]
    if magic[:2] != b"\x00\x00" or code not in IDX_DTYPES:
        raise IdxFormatError(
            f"bad magic 0x{magic.hex()} in {name}: not an IDX file (expected 0x0000 then a "
            f"dtype code in {{{', '.join(f'0x{c:02x}' for c in IDX_DTYPES)}}} and ndim)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxFormatError(
            f"{name} is truncated: header declares {ndim} dimensions ({header} header bytes), "
            f"found only {len(data)} bytes"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise IdxFormatError(
            f"{name} is truncated: header says {expected} bytes of data, found {found}"
        )
    if found > expected:
        raise IdxFormatError(
            f"{name} has {found - expected} trailing bytes: header says {expected} bytes "
            f"of data, found {found}"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed (detected by magic bytes).

    Returns:
      The array with the shape in the file header, e.g. (N, 28, 28) uint8 images or
      (N,) uint8 labels.

    Raises:
      IdxFormatError: the file is not a valid IDX file; the message names the file.
    """
    path = Path(path)
    return parse_idx(_decompress(path.read_bytes(), str(path)), str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """Encode `array` as IDX bytes (header plus big-endian data)."""
    arr = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    native = arr.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(
            f"dtype {arr.dtype} cannot be written as IDX; use one of "
            f"{sorted(str(d) for d in codes)}"
        )
    if arr.ndim > 255:
        raise ValueError(f"IDX supports at most 255 dimensions, got {arr.ndim}")
    header = bytes([0, 0, codes[native], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + np.ascontiguousarray(arr, dtype=IDX_DTYPES[codes[native]]).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, gzip: bool = False) -> None:
    """Write `array` to `path` as an IDX file, atomically; gzip-compressed if `gzip`."""
    data = encode_idx(array)
    if gzip:
        data = _gzip_bytes(data)
    write_bytes(path, data)


def _gzip_bytes(data: bytes) -> bytes:
    """Gzip `data` deterministically (mtime 0)."""
    return gzip.compress(data, mtime=0)
