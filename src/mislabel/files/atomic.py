"""Atomic file writing and checksums: nothing half-written is ever left at a final path."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` only on success.

    The temporary file lives in the same directory (same filesystem), so the final
    `os.replace` is atomic. On any exception the temporary file is removed and `path`
    is left as it was.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; final files get normal modes
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    write_bytes(path, text.encode("utf-8"))


def jsonable(value: Any) -> Any:
    """`value` with numpy scalars as Python numbers and NaN/Inf as None (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write `obj` as pretty, key-sorted JSON to `path` atomically; a NaN or infinite float
    is written as ``null`` (JSON has no NaN)."""
    text = json.dumps(_finite(obj), indent=2, sort_keys=True, allow_nan=False)
    write_text(path, text + "\n")


def _finite(obj: Any) -> Any:
    """`obj` with every non-finite float (NumPy's included) replaced by None."""
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: _finite(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(value) for value in obj]
    return obj


def save_npz(path: str | os.PathLike, **arrays: Any) -> None:
    """Save arrays to an uncompressed `.npz` atomically (numpy would append `.npz`)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of a bytes object."""
    return hashlib.sha256(data).hexdigest()


def csv_text(rows: list[dict], columns: list[str], float_format: str = "%.6g") -> str:
    """`rows` as CSV text, as pandas' `to_csv(index=False, float_format=...)` writes them,
    without importing pandas (compute jobs stay light).

    A column holding any float is written with `float_format` throughout (NaN and missing
    values empty), as pandas does with a float column; other values with `str`.
    """
    import csv
    import io
    import math

    floats = {c for c in columns if any(isinstance(r.get(c), float) for r in rows)}

    def cell(column: str, value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if column in floats and isinstance(value, int | float) and not isinstance(value, bool):
            return float_format % value
        return str(value)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([cell(c, r.get(c)) for c in columns] for r in rows)
    return out.getvalue()
