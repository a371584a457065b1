"""When buffered history is handed to the store's writer (``Engine._maybe_flush``).

A commit made in the middle of a train of due runs competes with them for the CPU; so
history is committed in the quiet gap after a train, or at the latest 250 ms after the
last commit. The policy reads real elapsed time, so these tests inject it.
"""

from __future__ import annotations

import asyncio

from harness import START

from tui_sched import App
from tui_sched.engine.clock import FakeClock
from tui_sched.engine.scheduler import Engine
from tui_sched.store.memory import MemoryRunStore


class CountingStore(MemoryRunStore):
    """A memory store that counts the flushes it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def _engine(elapsed: list[float]) -> tuple[Engine, CountingStore, FakeClock]:
    store, clock = CountingStore(), FakeClock(START)
    engine = Engine(App(state_dir=None).session, store, clock=clock)
    engine._wake = asyncio.Event()
    engine._monotonic = lambda: elapsed[0]
    engine._retention.next_sweep = clock.time() + 3600  # as start-up sets it
    return engine, store, clock


def test_an_overdue_flush_before_a_quiet_gap_counts_as_quiet() -> None:
    # The last commit was long ago (start-up, or the gap after the last round) and the
    # next wake-up is a second away: commit now, and say the engine is about to be quiet,
    # so that the next round's window opens when it wakes, not at this commit.
    elapsed = [1000.0]
    engine, store, clock = _engine(elapsed)
    engine._flushed_at = 0.0
    engine._wakeups.set("t", clock.time() + 1.0, clock.time())
    assert engine._maybe_flush() is True
    assert store.flushes == 1 and engine._flushed_at == 1000.0


def test_a_flush_is_deferred_inside_a_train_until_it_is_overdue() -> None:
    elapsed = [1000.0]
    engine, store, clock = _engine(elapsed)
    engine._flushed_at = 1000.0
    engine._wakeups.set("t", clock.time() + 0.001, clock.time())  # the next run is near
    elapsed[0] = 1000.1
    assert engine._maybe_flush() is False and store.flushes == 0
    assert engine._flush_at is not None  # a wake-up to commit at the latest
    elapsed[0] = 1000.3  # 300 ms without a commit: now even in the middle of a train
    assert engine._maybe_flush() is False and store.flushes == 1
