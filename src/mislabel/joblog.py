"""Running one workflow job: its log file, and JAX's persistent compilation cache."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

DEFAULT_JAX_CACHE = "results/.jax_cache"


def use_jax_cache(cache_dir: str | os.PathLike = DEFAULT_JAX_CACHE) -> None:
    """Point JAX's persistent compilation cache at `cache_dir` (call before importing jax).

    Compiled programs are then reused across jobs and runs; JAX writes cache entries
    atomically, so concurrent jobs can share the folder. An explicit
    `JAX_COMPILATION_CACHE_DIR` in the environment wins.
    """
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(cache_dir).resolve()))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")


@contextlib.contextmanager
def job_log(log_path: str | os.PathLike, job: str) -> Iterator[Callable[[str], None]]:
    """Send this job's output (and Python warnings/logging) to `log_path`; yield `log(line)`.

    On an exception the traceback goes to the log too, and the exception is re-raised with
    the log's path, so Snakemake's error message points at it.
    """
    path = Path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(path, "w", buffering=1) as fh:

        def log(line: str) -> None:
            fh.write(f"[{time.perf_counter() - start:7.2f} s] {line}\n")

        handler = logging.StreamHandler(fh)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        log(f"job {job} started")
        try:
            with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
                yield log
        except BaseException as err:
            fh.write(traceback.format_exc())
            log(f"job {job} FAILED: {type(err).__name__}: {err}")
            raise RuntimeError(f"job {job} failed: {err} (full log: {path})") from err
        finally:
            logging.getLogger().removeHandler(handler)
        log(f"job {job} done")
    sys.stdout.flush()
