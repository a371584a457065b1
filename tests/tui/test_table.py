"""The task table and its snapshots at 2,000-task scale: rows shared between snapshots,
cells made when drawn, a filter key that only picks rows, marks kept until the engine's
next word. (The key-to-screen figures themselves are ``bench/run.py --only tui_2000``.)"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC
from types import SimpleNamespace

from textual.app import App, ComposeResult

from tui_sched.engine.session import Session
from tui_sched.engine.status import StatusIndex
from tui_sched.store.base import Outcome
from tui_sched.tui.model import Facts, RowMemo, Snapshot, Status, TaskRow, build_snapshot
from tui_sched.tui.widgets.task_table import TaskTable

NOW = 1_772_442_000.0  # 2026-03-02 09:00:00 UTC


def noop() -> None:
    """A task body."""


class FakeEngine:
    """What ``build_snapshot`` reads of an engine, with a status index the test drives."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.status = StatusIndex()
        self.now = NOW
        self.clock = SimpleNamespace(time=lambda: self.now)
        self.wake: dict[str, float] = {}
        self.state, self.started_at, self.tz = "running", NOW - 60, UTC
        self.cluster: str | None = None  # no dask runs
        self.recovered: tuple[object, ...] = ()  # the last scheduler stopped cleanly

    def terminating_tasks(self) -> set[str]:
        return set()

    def next_wake(self, task: str) -> float | None:
        return self.wake.get(task)


def test_snapshot_rows_are_shared_until_their_task_changes() -> None:
    session = Session()
    session.create_task("every 10 seconds", func=noop, name="a")
    session.create_task(None, func=noop, name="b")
    engine = FakeEngine(session)
    memo: RowMemo = {}

    def snap() -> Snapshot:
        shared = build_snapshot(engine, None, {}, memo=memo)  # type: ignore[arg-type]
        fresh = build_snapshot(engine, None, {})  # type: ignore[arg-type]
        assert shared.rows == fresh.rows and shared.facts == fresh.facts  # same values
        return shared

    first, again = snap(), snap()
    assert all(x is y for x, y in zip(first.rows, again.rows, strict=True))
    engine.status.started("a", NOW)
    running = snap()
    assert running.rows[0].running_since == NOW and running.rows[0] is not again.rows[0]
    assert running.rows[1] is again.rows[1]
    engine.status.finished("a", NOW, NOW + 1, Outcome.FAIL)
    failed = snap()
    assert failed.rows[0].status is Status.FAILED and failed.rows[0].strip == (Outcome.FAIL,)
    assert failed.facts.failures_hour == 1
    engine.now = NOW + 3602  # the failure ended over an hour ago; the row is the same
    later = snap()
    assert later.facts.failures_hour == 0 and later.rows[0] is failed.rows[0]
    session["b"].force_run = True
    engine.wake["a"] = NOW + 3610
    changed = snap()
    assert changed.rows[1].queued and changed.rows[0].next_wake == NOW + 3610
    session.remove_task("b")
    assert [r.name for r in snap().rows] == ["a"] and set(memo) == {"a"}


def rows(n: int) -> tuple[TaskRow, ...]:
    return tuple(TaskRow(
        name=f"task-{i:04d}", execution="thread",
        condition="every 10 minutes" if i % 2 else "daily", disabled=False, queued=False,
        running_since=None, last_start=NOW - 5, last_end=NOW - 4,
        last_outcome=Outcome.SUCCESS if i % 3 else Outcome.FAIL, strip=(Outcome.SUCCESS,),
        next_wake=NOW + 600, waits_for=()) for i in range(n))


def snapshot(task_rows: tuple[TaskRow, ...], at: float = NOW) -> Snapshot:
    facts = Facts("running", NOW - 60, len(task_rows), 0, 0, 0, 0)
    return Snapshot(at, UTC, facts, task_rows, None, None)


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TaskTable(id="tasks")


def test_filter_keys_pick_rows_and_marks_last_until_the_next_snapshot() -> None:
    async def go() -> None:
        app = TableApp()
        async with app.run_test(size=(120, 24)) as pilot:
            table = app.query_one(TaskTable)
            base = rows(2000)
            table.show(snapshot(base))
            await pilot.pause()
            assert table.row_count == 2000 and table.selected == "task-0000"
            # A row never drawn is formatted when asked for.
            assert table.get_row("task-1999")[:2] == ["✓ succeeded", "task-1999"]
            table.mark("task-0000", Status.QUEUED)
            table.filter_text = "task-00"
            assert table.row_count == 100
            table.filter_text = "task-000 failed"
            assert [table.get_row_at(i)[1] for i in range(table.row_count)] == [
                "task-0000", "task-0003", "task-0006", "task-0009"]
            assert table.get_row("task-0000")[0] == "» queued"  # kept while typing
            table.filter_text = ""
            assert table.row_count == 2000
            assert table.get_row("task-1997")[0] == "✓ succeeded"
            await pilot.pause()
            # The engine's next snapshot replaces the mark; rows come from it.
            ran = replace(base[0], queued=True)
            table.show(snapshot((ran, *base[1:]), at=NOW + 1))
            assert table.get_row("task-0000")[0] == "» queued"
            table.show(snapshot(base, at=NOW + 2))
            assert table.get_row("task-0000")[0] == "✗ failed"
            table.sort_by = "status"
            assert table.get_row_at(0)[0] == "✗ failed"

    asyncio.run(go())
