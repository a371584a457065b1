"""The WAL is checkpointed by a thread of its own, not inside the engine's commits."""

from __future__ import annotations

from pathlib import Path

from tui_sched.store.base import Outcome, RunEnd, RunRecord, Trigger
from tui_sched.store.sqlite import SqliteRunStore


def test_a_growing_wal_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = SqliteRunStore(path)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    tail = "x" * 4000
    for i in range(3000):  # ~12 MB of output tails: past the 8 MB trigger
        rid = store.next_run_id()
        store.start_run(RunRecord(rid, "t", Trigger.SCHEDULED, float(i)))
        store.finish_run(rid, RunEnd(i + 0.5, Outcome.SUCCESS, output_tail=tail))
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
