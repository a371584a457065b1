"""A subscriber's table between snapshots (``control.live.LiveTable``): each run event is
applied once, whichever arrives first, the event or a snapshot that already shows it."""

from __future__ import annotations

from datetime import UTC

from tui_sched.control.live import LiveTable
from tui_sched.engine import events as ev
from tui_sched.engine.snapshot import Facts, Snapshot, Status, TaskRow
from tui_sched.store.base import Outcome, RunRecord, Trigger

T = 1_000_000.0


def _snapshot(at: float, *, running: float | None, last: Outcome | None, strip: tuple[Outcome, ...],
              busy: int) -> Snapshot:
    row = TaskRow("beat", "thread", "every 10 seconds", False, False, running, None, None, last,
                  strip, T + 10, ())
    return Snapshot(at, UTC, Facts("running", T, 1, 0, busy, 0, 0), (row,), None, None)


def _run(start: float, end: float | None = None, outcome: Outcome | None = None) -> RunRecord:
    return RunRecord(7, "beat", Trigger.SCHEDULED, start, end, outcome)


def test_a_run_shows_once_whether_its_events_come_before_or_after_the_snapshot() -> None:
    started = ev.RunStarted(T + 1, _run(T + 1), T + 1)
    failed = ev.RunFinished(T + 2, _run(T + 1, T + 2, Outcome.FAIL))

    late = LiveTable()  # events after the snapshot that shows neither
    late.rebase(_snapshot(T, running=None, last=None, strip=(), busy=0), seq=4)
    late.add_events(5, [started])
    assert late.snapshot is not None
    assert late.snapshot.rows[0].status is Status.RUNNING and late.snapshot.facts.running == 1
    late.add_events(6, [ev.LogLine(T + 1.5, "beat", 7, "stdout", "hi"), failed])

    early = LiveTable()  # the same events first, then a snapshot that shows the start
    early.add_events(5, [started, ev.LogLine(T + 1.5, "beat", 7, "stdout", "hi"), failed])
    early.rebase(_snapshot(T + 1.2, running=T + 1, last=None, strip=(), busy=1), seq=5)

    for table in (late, early):
        snap = table.snapshot
        assert snap is not None
        row = snap.rows[0]
        assert (row.status, row.last_outcome, row.strip) == (Status.FAILED, Outcome.FAIL, (Outcome.FAIL,))
        assert (row.last_start, row.last_end) == (T + 1, T + 2)
        assert (snap.facts.running, snap.facts.failures_hour) == (0, 1)
        assert snap.at == T + 2


def test_progress_moves_the_time_and_the_next_wake_up() -> None:
    table = LiveTable()
    table.rebase(_snapshot(T, running=None, last=Outcome.SUCCESS, strip=(Outcome.SUCCESS,), busy=0), seq=1)
    snap = table.progress(T + 3, {"beat": T + 20, "gone": T + 5})
    assert snap is not None and snap.at == T + 3 and snap.rows[0].next_wake == T + 20
