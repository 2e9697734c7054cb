"""Running one process of work: its log file, JAX's persistent compilation cache, its exit.

Used by the workflow's jobs and by the `mislabel` command; nothing here imports JAX.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

CACHE_ENV = "JAX_COMPILATION_CACHE_DIR"


def use_jax_cache(cache_dir: str | os.PathLike | None = None) -> Path | None:
    """Point JAX's persistent compilation cache at `cache_dir` (call before importing jax).

    The default is `user_jax_cache_dir()`, shared by the `mislabel` command and the
    workflow's jobs, so removing `results/` keeps the compiled programs (the cache key
    covers the program, its shapes, the compile options and the JAX version, so a stale
    entry is never used). JAX writes cache entries atomically, so concurrent jobs can
    share the folder. An explicit
    `JAX_COMPILATION_CACHE_DIR` in the environment wins. Every program is cached, however
    quick its compilation: a small one still costs a process more to compile than to load.

    A folder that cannot be created or written is not used (JAX would warn on every
    program it compiles): the cache is switched off and the programs are compiled in
    memory, as without a cache; so is an empty `JAX_COMPILATION_CACHE_DIR`. Returns the
    folder in use, or None.
    """
    if os.environ.get(CACHE_ENV) == "":  # explicitly switched off
        return None
    folder = Path(os.environ.get(CACHE_ENV) or cache_dir or user_jax_cache_dir())
    folder = folder.expanduser().resolve()
    if not _writable_dir(folder):
        os.environ[CACHE_ENV] = ""
        os.environ["JAX_ENABLE_COMPILATION_CACHE"] = "false"
        return None
    os.environ[CACHE_ENV] = str(folder)
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
    return folder


def user_jax_cache_dir() -> Path:
    """Where the `mislabel` command keeps compiled programs by default:
    ``$XDG_CACHE_HOME/mislabel/jax``, else ``~/.cache/mislabel/jax``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mislabel" / "jax"


def _writable_dir(folder: Path) -> bool:
    """Create `folder` if needed; True if it is a folder this process can write into."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


FAST_EXIT_OFF = "MISLABEL_NO_FAST_EXIT"


def fast_exit_allowed() -> bool:
    """Whether `exit_now` may end the process: not under a tracer, profiler or coverage
    (they write their results at exit), and not with MISLABEL_NO_FAST_EXIT=1."""
    return (
        os.environ.get(FAST_EXIT_OFF, "") in ("", "0")
        and sys.gettrace() is None
        and sys.getprofile() is None
        and "coverage" not in sys.modules
    )


def exit_now(code: int = 0) -> NoReturn:
    """End the process with `code`, without the interpreter's teardown.

    Call it only once every output file is written and closed. What is left at exit is
    then freeing memory: JAX's clean-up of its backends and caches, the XLA client, module
    teardown and garbage collection, 0.15-0.6 s for a process that used JAX
    (`benchmarks/startup.md`). Pending JAX effects are awaited, the logging handlers and
    the standard streams flushed, then `os._exit`.
    """
    if "jax" in sys.modules:
        import jax

        jax.effects_barrier()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            code = code or 1
    os._exit(code)


@contextlib.contextmanager
def job_log(
    log_path: str | os.PathLike, job: str, *, exit_when_done: bool = False
) -> Iterator[Callable[[str], None]]:
    """Send this job's output (and Python warnings/logging) to `log_path`; yield `log(line)`.

    On an exception the traceback goes to the log too, and the exception is re-raised with
    the log's path, so Snakemake's error message points at it. With `exit_when_done`, a
    job that succeeded ends its process right after the log is closed (`exit_now`): for a
    job script whose last statement is this block, it skips the interpreter's teardown.
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
    if exit_when_done and fast_exit_allowed():
        exit_now(0)
