"""The WAL is checkpointed by a thread of its own, not inside the engine's commits."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tui_sched.store import sqlite as sqlite_store
from tui_sched.store.base import Outcome, RunEnd, RunRecord, Trigger
from tui_sched.store.sqlite import SqliteRunStore


def _record(store: SqliteRunStore, i: int, tail: str) -> None:
    rid = store.next_run_id()
    store.start_run(RunRecord(rid, "t", Trigger.SCHEDULED, float(i)))
    store.finish_run(rid, RunEnd(i + 0.5, Outcome.SUCCESS, output_tail=tail))


def test_a_growing_wal_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = SqliteRunStore(path)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    tail = "x" * 4000
    for i in range(3000):  # ~12 MB of output tails: past the 8 MB trigger
        _record(store, i, tail)
        if i % 100 == 99:
            store.flush()
    assert checkpointer.ran.wait(10), "no checkpoint ran"
    assert checkpointer.checkpoints >= 1
    # Checkpointed pages reached the database file itself (an empty history is ~40 KB;
    # how much of the 12 MB it holds depends on when the checkpoint ran).
    assert path.stat().st_size > 2 * 1024 * 1024
    store.close()
    reopened = SqliteRunStore.open_readonly(path)
    assert len(reopened.history("t", limit=5000)) == 3000
    reopened.close()


def test_the_writer_empties_a_log_the_background_checkpoints_never_caught_up_with(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Under a writer that never pauses, each PASSIVE checkpoint ends behind the log's end,
    # so the log never starts over. Here the checkpointer thread is never asked at all,
    # which is that race lost every time; the writer must bound the log by itself.
    monkeypatch.setattr(sqlite_store, "_WAL_CHECKPOINT_BYTES", 1 << 40)
    monkeypatch.setattr(sqlite_store, "_WAL_TRUNCATE_BYTES", 1024 * 1024)
    path = tmp_path / "h.sqlite3"
    wal = tmp_path / "h.sqlite3-wal"
    store = SqliteRunStore(path)
    assert store._checkpointer is not None
    tail = "x" * 4000
    largest = 0
    for i in range(3000):  # ~12 MB of output tails, 400 KB per flush
        _record(store, i, tail)
        if i % 100 == 99:
            store.flush()
            store.history("t", limit=1)  # waits for the writer: the commit is done
            largest = max(largest, wal.stat().st_size)
    assert store._checkpointer.checkpoints == 0
    assert store._checkpointer.truncations >= 5
    # The threshold plus the flush that crossed it (and SQLite's rounding to pages).
    assert largest < 1024 * 1024 + 2 * 400_000 + 64 * 1024, largest
    store.close()
    reopened = SqliteRunStore.open_readonly(path)
    assert len(reopened.history("t", limit=5000)) == 3000
    reopened.close()


class _WatchedLock:
    """A lock that says when a second thread starts waiting for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.wanted = threading.Event()

    def acquire(self) -> None:
        self._lock.acquire()

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> None:
        self.wanted.set()
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_the_writer_s_truncate_waits_for_a_background_checkpoint_in_progress(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite answers a second concurrent checkpoint with "busy" at once; the truncate must
    # wait for the checkpointer thread's PASSIVE instead of giving up.
    monkeypatch.setattr(sqlite_store, "_WAL_CHECKPOINT_BYTES", 1 << 40)
    monkeypatch.setattr(sqlite_store, "_WAL_TRUNCATE_BYTES", 1024 * 1024)
    path = tmp_path / "h.sqlite3"
    store = SqliteRunStore(path)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    tail = "x" * 4000
    for i in range(200):  # ~800 KB: below the threshold
        _record(store, i, tail)
    store.flush()
    store.history("t", limit=1)
    # Hold the checkpointer's turn as a PASSIVE checkpoint in progress would, and learn
    # when the writer comes to wait for it.
    turn = _WatchedLock()
    monkeypatch.setattr(checkpointer, "_one_at_a_time", turn)
    turn.acquire()
    for i in range(200, 400):  # crosses the threshold: the writer's truncate must wait
        _record(store, i, tail)
    store.flush()
    waiting = threading.Thread(target=store.history, args=("t",), kwargs={"limit": 1})
    waiting.start()
    assert turn.wanted.wait(10), "the writer never asked for the checkpointer's turn"
    assert waiting.is_alive()
    assert checkpointer.truncations == 0
    turn.release()
    waiting.join(10)
    assert not waiting.is_alive()
    assert checkpointer.truncations == 1
    assert (tmp_path / "h.sqlite3-wal").stat().st_size == 0
    store.close()
