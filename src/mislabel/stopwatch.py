"""Wall time of a block of work with JAX's compilation split off, from a single run, and
the progress lines of long work (`progress_line`).

JAX reports when it traces a function to a jaxpr, lowers it to MLIR and compiles it (or
loads it from the persistent compilation cache) through `jax.monitoring` time spans. A
`Stopwatch` listens to those spans while its block runs and subtracts their union from the
block's wall time, so a method's cost is measured once, without running it a second time
to reach a steady state.
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

from tqdm import tqdm

# JAX's time-span events of tracing, lowering and backend compilation (the last one includes
# a persistent-cache load), from jax._src.dispatch.
COMPILE_EVENTS = frozenset(
    {
        "/jax/core/compile/jaxpr_trace_duration",
        "/jax/core/compile/jaxpr_to_mlir_module_duration",
        "/jax/core/compile/backend_compile_duration",
    }
)

_lock = threading.Lock()
_active: list[Stopwatch] = []
_registered = False


class Timing(NamedTuple):
    """`wall`: seconds from start to end; `compile`: the part spent tracing, lowering and
    compiling (or loading compiled programs); `science`: the rest."""

    wall: float
    compile: float

    @property
    def science(self) -> float:
        return max(self.wall - self.compile, 0.0)

    def as_dict(self) -> dict[str, float]:
        return {"seconds": self.science, "compile_seconds": self.compile, "wall_seconds": self.wall}


def _listener(event: str, start: float, end: float, **_: object) -> None:
    if event not in COMPILE_EVENTS:
        return
    with _lock:
        for watch in _active:
            watch._spans.append((start, end))


def _register() -> None:
    global _registered
    if not _registered:
        import jax.monitoring

        jax.monitoring.register_event_time_span_listener(_listener)
        _registered = True


def union_length(spans: list[tuple[float, float]], lo: float, hi: float) -> float:
    """Total length of the union of `spans`, clipped to [lo, hi] (nested spans count once)."""
    total, reach = 0.0, lo
    for start, end in sorted(spans):
        start, end = max(start, reach), min(end, hi)
        if end > start:
            total += end - start
            reach = end
    return total


class Stopwatch:
    """``with Stopwatch() as watch: ...`` then ``watch.timing`` (a `Timing`).

    JAX's spans carry `time.time()` stamps, so the block is stamped with the same clock.
    Works when nested; every active stopwatch sees every compilation in its block.
    """

    def __init__(self) -> None:
        self._spans: list[tuple[float, float]] = []
        self.timing: Timing | None = None

    def __enter__(self) -> Stopwatch:
        _register()
        self._start = time.time()
        with _lock:
            _active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        end = time.time()
        with _lock:
            _active.remove(self)
        self.timing = Timing(end - self._start, union_length(self._spans, self._start, end))


def progress_line(
    what: str, done: int, total: int, elapsed: float, unit: str, note: str = ""
) -> str:
    """One line of progress, by tqdm's meter in ASCII (it goes to logs as well as to
    terminals): ``what:  37%|###7      | 18560/50000 [00:11<00:18, 1657.14 samples/s]``,
    the time so far and the time left in brackets, `note` after the rate."""
    return tqdm.format_meter(
        done, total, elapsed, prefix=what, unit=f" {unit}", ascii=True, postfix=note or None
    )
