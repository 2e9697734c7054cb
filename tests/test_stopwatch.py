"""The stopwatch splits a block's wall time into JAX compilation and the rest."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import pytest

from mislabel.stopwatch import Stopwatch, union_length


def test_union_length_counts_overlaps_and_nesting_once():
    spans = [(1.0, 3.0), (2.0, 4.0), (2.5, 2.7), (6.0, 7.0), (-1.0, 0.5)]
    # [1, 4] and [6, 7], clipped to [0, 6.5]: 3 + 0.5 + 0.5 (the part of (-1, 0.5) inside)
    assert union_length(spans, 0.0, 6.5) == pytest.approx(4.0)
    assert union_length([], 0.0, 1.0) == 0.0


def test_first_call_compiles_and_a_second_one_does_not():
    offset = float(time.time() % 1000)  # a constant no earlier test compiled

    @jax.jit
    def f(x):
        return jnp.sin(x) @ jnp.cos(x).T + offset

    x = jnp.ones((64, 64))
    with Stopwatch() as first:
        jax.block_until_ready(f(x))
    with Stopwatch() as second:
        jax.block_until_ready(f(x))
    assert first.timing.compile > 0
    assert first.timing.compile <= first.timing.wall
    assert second.timing.compile == 0.0
    assert second.timing.science == pytest.approx(second.timing.wall)


def test_sleep_is_science_not_compilation():
    with Stopwatch() as outer:
        with Stopwatch() as inner:
            time.sleep(0.05)
    assert inner.timing.science >= 0.05 and inner.timing.compile == 0.0
    assert outer.timing.wall >= inner.timing.wall
