"""One contract suite for every ``RunStore`` backend, plus what only SQLite promises."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tui_sched.store
from tui_sched.errors import StoreError
from tui_sched.store import (
    MemoryRunStore,
    Outcome,
    RunEnd,
    RunRecord,
    RunStore,
    SqliteRunStore,
    TaskInfo,
    TaskSummary,
    Trigger,
)

BACKENDS: dict[str, Callable[[Path], RunStore]] = {
    "memory": lambda _dir: MemoryRunStore(),
    "sqlite": lambda d: SqliteRunStore(d / "h.sqlite3"),
}


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunStore]:
    backend = BACKENDS[request.param](tmp_path)
    yield backend
    backend.close()


def run(run_id: int, task: str = "a", start: float | None = None, **fields: Any) -> RunRecord:
    """An open scheduled run starting at ``start`` (default: ``run_id`` seconds)."""
    return RunRecord(
        id=run_id,
        task=task,
        trigger=Trigger.SCHEDULED,
        start=float(run_id) if start is None else start,
        **fields,
    )


def done(end: float, outcome: Outcome = Outcome.SUCCESS, **fields: Any) -> RunEnd:
    return RunEnd(end=end, outcome=outcome, **fields)


def add_finished(store: RunStore, run_id: int, task: str = "a", end: float | None = None) -> None:
    store.start_run(run(run_id, task))
    store.finish_run(run_id, done(run_id + 0.5 if end is None else end))


def ids(records: list[RunRecord]) -> list[int]:
    return [r.id for r in records]


# -- run ids ----------------------------------------------------------------------------------


def test_next_run_id_is_positive_and_strictly_increasing(store: RunStore) -> None:
    first = store.next_run_id()
    second = store.next_run_id()
    assert 0 < first < second


def test_next_run_id_is_above_every_started_id(store: RunStore) -> None:
    store.start_run(run(store.next_run_id()))
    store.start_run(run(500))
    assert store.next_run_id() > 500


def test_begin_run_starts_an_open_run_under_a_new_id(store: RunStore) -> None:
    store.start_run(run(500))
    record = store.begin_run("etl", Trigger.FORCED, 600.0, attempt=3)
    assert record == RunRecord(record.id, "etl", Trigger.FORCED, 600.0, attempt=3)
    assert record.id > 500 and store.next_run_id() > record.id
    assert store.history(task="etl") == [record]  # open (no end) until finished
    store.finish_run(record.id, done(601.0))
    (finished,) = store.history(task="etl")
    assert finished.end == 601.0 and finished.outcome is Outcome.SUCCESS
    with pytest.raises(StoreError):
        store.start_run(run(record.id, task="b"))  # its id is taken


@pytest.mark.parametrize("flushed", [False, True], ids=["start-buffered", "start-written"])
def test_finishing_with_a_start_moves_the_runs_start(store: RunStore, flushed: bool) -> None:
    store.start_run(run(7, start=100.0))  # dispatched at 100; it began (on a cluster) at 160
    store.start_run(run(8, start=101.0))
    if flushed:
        store.flush()
    store.finish_run(7, done(170.0, start=160.0))
    store.finish_run(8, done(171.0))  # no start: the recorded one stays
    store.flush()
    assert [(r.id, r.start, r.end, r.duration) for r in store.history()] == [
        (8, 101.0, 171.0, 70.0), (7, 160.0, 170.0, 10.0)]


def test_starting_an_existing_id_fails(store: RunStore) -> None:
    store.start_run(run(1))
    with pytest.raises(StoreError):
        store.start_run(run(1, task="b"))
    assert [(r.id, r.task) for r in store.history()] == [(1, "a")]


# -- start, finish, history -----------------------------------------------------------------


def test_started_run_is_open_and_finishing_fills_every_field(store: RunStore) -> None:
    record = run(7, task="etl", start=100.0, attempt=2)
    store.start_run(record)
    assert store.history() == [record]
    assert record.end is None and record.outcome is None

    end = RunEnd(
        end=103.5,
        outcome=Outcome.FAIL,
        error="ValueError: boom",
        traceback="Traceback ...",
        return_summary=None,
        output_tail="last line",
    )
    store.finish_run(7, end)
    store.flush()
    assert store.history() == [
        RunRecord(
            id=7,
            task="etl",
            trigger=Trigger.SCHEDULED,
            start=100.0,
            end=103.5,
            outcome=Outcome.FAIL,
            error="ValueError: boom",
            traceback="Traceback ...",
            output_tail="last line",
            attempt=2,
        )
    ]
    assert store.history()[0].duration == pytest.approx(3.5)


def test_complete_record_can_be_started_and_cannot_be_finished_again(store: RunStore) -> None:
    missed = RunRecord(
        id=1,
        task="a",
        trigger=Trigger.CATCH_UP,
        start=10.0,
        end=10.0,
        outcome=Outcome.MISSED,
        error="scheduler was down",
    )
    store.start_run(missed)
    assert store.history() == [missed]
    with pytest.raises(StoreError):
        store.finish_run(1, done(11.0))
    assert store.history() == [missed]


def test_finishing_an_unknown_or_finished_run_fails(store: RunStore) -> None:
    with pytest.raises(StoreError):
        store.finish_run(42, done(1.0))
    add_finished(store, 1)
    with pytest.raises(StoreError):
        store.finish_run(1, done(99.0, Outcome.CRASH))
    assert store.history()[0].outcome is Outcome.SUCCESS


def test_history_is_newest_id_first_whatever_the_insertion_order(store: RunStore) -> None:
    for run_id in (3, 1, 2):
        store.start_run(run(run_id, start=100.0 - run_id))
    assert ids(store.history()) == [3, 2, 1]


def test_history_limit_task_filter_and_paging(store: RunStore) -> None:
    for run_id in range(1, 11):
        add_finished(store, run_id, task="even" if run_id % 2 == 0 else "odd")
    store.flush()
    assert ids(store.history(limit=3)) == [10, 9, 8]
    assert ids(store.history(task="even")) == [10, 8, 6, 4, 2]
    assert ids(store.history(task="odd", limit=2)) == [9, 7]
    assert ids(store.history(before_id=4)) == [3, 2, 1]
    assert ids(store.history(task="even", before_id=8, limit=2)) == [6, 4]
    assert store.history(task="nobody") == []
    assert store.history(limit=0) == []


def test_history_pages_join_up_without_gaps(store: RunStore) -> None:
    for run_id in range(1, 8):
        store.start_run(run(run_id))
    pages: list[int] = []
    before: int | None = None
    while page := store.history(limit=3, before_id=before):
        pages += ids(page)
        before = page[-1].id
    assert pages == [7, 6, 5, 4, 3, 2, 1]


# -- summaries ----------------------------------------------------------------------------------


def test_summaries_give_latest_start_and_latest_end_per_outcome(store: RunStore) -> None:
    store.start_run(run(1, "a", start=10.0))
    store.finish_run(1, done(11.0, Outcome.SUCCESS))
    store.start_run(run(2, "a", start=20.0))
    store.finish_run(2, done(25.0, Outcome.FAIL))
    store.start_run(run(3, "a", start=30.0))
    store.finish_run(3, done(31.0, Outcome.SUCCESS))
    # An older start recorded later (a catch-up) must not hide the latest start.
    store.start_run(run(4, "a", start=5.0, end=5.0, outcome=Outcome.MISSED))
    store.start_run(run(5, "a", start=40.0))  # still running: counts, but ends nothing
    store.start_run(run(6, "b", start=7.0))
    store.finish_run(6, done(8.0, Outcome.TERMINATE))

    assert store.summaries() == [
        TaskSummary(
            task="a",
            last_start=40.0,
            last_end={Outcome.SUCCESS: 31.0, Outcome.FAIL: 25.0, Outcome.MISSED: 5.0},
            run_count=5,
        ),
        TaskSummary(task="b", last_start=7.0, last_end={Outcome.TERMINATE: 8.0}, run_count=1),
    ]


def test_summaries_last_start_skips_rows_of_starts_that_never_happened(store: RunStore) -> None:
    store.start_run(run(1, "a", start=10.0))
    store.finish_run(1, done(11.0, Outcome.SUCCESS))
    # Newer rows, but no run started: a missed slot and a skipped (overlapping) start.
    store.start_run(run(2, "a", start=50.0, end=50.0, outcome=Outcome.MISSED))
    store.start_run(run(3, "a", start=60.0, end=60.0, outcome=Outcome.SKIPPED))
    store.start_run(run(4, "b", start=70.0, end=70.0, outcome=Outcome.MISSED))

    a, b = store.summaries()
    assert a.last_start == 10.0 and a.run_count == 3
    assert b.last_start is None and b.last_end == {Outcome.MISSED: 70.0}


def test_summaries_of_an_empty_store(store: RunStore) -> None:
    assert store.summaries() == []


def test_summaries_keys_are_outcomes(store: RunStore) -> None:
    add_finished(store, 1)
    (summary,) = store.summaries()
    assert all(type(k) is Outcome for k in summary.last_end)


# -- close_open_runs ------------------------------------------------------------------------------


def test_close_open_runs_closes_only_open_runs(store: RunStore) -> None:
    add_finished(store, 1, "a")
    store.start_run(run(2, "a", output_tail="half"))
    store.start_run(run(3, "b"))
    store.flush()

    closed = store.close_open_runs(at=50.0, outcome=Outcome.CRASH, error="scheduler died")

    assert [(r.id, r.end, r.outcome, r.error, r.output_tail) for r in closed] == [
        (2, 50.0, Outcome.CRASH, "scheduler died", "half"),
        (3, 50.0, Outcome.CRASH, "scheduler died", None),
    ]
    assert store.history() == [*reversed(closed), store.history()[-1]]
    assert store.history()[-1].outcome is Outcome.SUCCESS
    assert store.close_open_runs(at=60.0, outcome=Outcome.CRASH, error="again") == []


def test_close_open_runs_on_an_empty_store(store: RunStore) -> None:
    assert store.close_open_runs(at=1.0, outcome=Outcome.CRASH, error="x") == []


# -- flags and tasks ----------------------------------------------------------------------------


def test_flags_are_stored_and_overwritten(store: RunStore) -> None:
    assert store.get_flags() == {}
    store.set_flag("a", True)
    store.set_flag("b", True)
    store.set_flag("b", False)
    store.flush()
    assert store.get_flags() == {"a": True, "b": False}


TASKS = [
    TaskInfo("zeta", "daily", "thread", False, "tasks/etl.py"),
    TaskInfo("alpha", "every 10 seconds", "process", True),
]


def test_save_tasks_round_trips_in_order_and_replaces(store: RunStore) -> None:
    assert store.tasks() == []
    store.save_tasks(TASKS)
    assert store.tasks() == TASKS
    store.save_tasks(TASKS[1:])
    assert store.tasks() == TASKS[1:]
    store.save_tasks([])
    assert store.tasks() == []


def test_save_tasks_with_duplicate_names_fails_and_changes_nothing(store: RunStore) -> None:
    store.save_tasks(TASKS)
    with pytest.raises(StoreError, match="alpha"):
        store.save_tasks([*TASKS, TaskInfo("alpha", "true", "main", False)])
    assert store.tasks() == TASKS


def test_save_tasks_keeps_buffered_runs(store: RunStore) -> None:
    store.start_run(run(1))
    store.save_tasks(TASKS)
    assert ids(store.history()) == [1]


# -- prune -------------------------------------------------------------------------------------


def test_prune_by_count_keeps_the_newest_of_each_task(store: RunStore) -> None:
    for run_id in range(1, 6):
        add_finished(store, run_id, "a")
    for run_id in range(6, 8):
        add_finished(store, run_id, "b")
    store.flush()

    assert store.prune(keep_per_task=2, older_than=None) == 3

    assert ids(store.history(task="a")) == [5, 4]
    assert ids(store.history(task="b")) == [7, 6]
    assert store.prune(keep_per_task=2, older_than=None) == 0


def test_prune_of_some_tasks_leaves_the_others(store: RunStore) -> None:
    for run_id in range(1, 4):
        add_finished(store, run_id, "a", end=float(run_id))
    for run_id in range(4, 7):
        add_finished(store, run_id, "b", end=float(run_id))
    store.flush()

    assert store.prune(keep_per_task=1, older_than=None, tasks=["a"]) == 2
    assert store.prune(keep_per_task=None, older_than=100.0, tasks=[]) == 0

    assert ids(store.history(task="a")) == [3]
    assert ids(store.history(task="b")) == [6, 5, 4]


def test_prune_by_count_never_deletes_open_runs(store: RunStore) -> None:
    store.start_run(run(1))  # old, still open (a long run)
    for run_id in range(2, 6):
        add_finished(store, run_id)
    store.start_run(run(6))  # newest, open: counts as one of the newest two

    assert store.prune(keep_per_task=2, older_than=None) == 3

    assert ids(store.history()) == [6, 5, 1]
    # 5 stays too: the task's latest success (see the next tests).
    assert store.prune(keep_per_task=0, older_than=None) == 0
    assert ids(store.history()) == [6, 5, 1]


def test_prune_by_age_deletes_runs_that_ended_before_the_cutoff(store: RunStore) -> None:
    add_finished(store, 1, "a", end=10.0)
    add_finished(store, 2, "b", end=19.9)
    add_finished(store, 3, "a", end=20.0)  # exactly at the cutoff: kept
    store.start_run(run(4, "a", start=1.0))  # started long ago, still open: kept
    store.start_run(run(5, "c", start=1.0, end=2.0, outcome=Outcome.MISSED))
    add_finished(store, 6, "b", end=30.0)
    store.start_run(run(7, "c", start=30.0, end=31.0, outcome=Outcome.MISSED))

    assert store.prune(keep_per_task=None, older_than=20.0) == 3

    assert ids(store.history()) == [7, 6, 4, 3]


def test_prune_keeps_each_task_s_latest_run_of_each_outcome(store: RunStore) -> None:
    # What period conditions read (``daily`` is about the latest success or failure,
    # ``after task`` about the latest end of an outcome), however short keep_days is.
    store.start_run(run(1, "a", start=10.0))
    store.finish_run(1, done(11.0, Outcome.SUCCESS))
    store.start_run(run(2, "a", start=20.0))
    store.finish_run(2, done(21.0, Outcome.FAIL))
    store.start_run(run(3, "a", start=22.0))
    store.finish_run(3, done(23.0, Outcome.FAIL))
    store.start_run(run(4, "a", start=24.0, end=24.0, outcome=Outcome.SKIPPED))
    store.start_run(run(5, "b", start=12.0))
    store.finish_run(5, done(13.0, Outcome.SUCCESS))

    assert store.prune(keep_per_task=None, older_than=1000.0) == 1  # a's older failure
    assert store.prune(keep_per_task=0, older_than=None) == 0

    assert ids(store.history()) == [5, 4, 3, 1]
    a, b = store.summaries()
    assert a.last_start == 22.0 and b.last_start == 12.0
    assert a.last_end == {Outcome.SUCCESS: 11.0, Outcome.FAIL: 23.0, Outcome.SKIPPED: 24.0}


def test_prune_keeps_a_task_s_newest_run_that_started(store: RunStore) -> None:
    store.start_run(run(1, "a", start=10.0))
    store.finish_run(1, done(11.0, Outcome.SUCCESS))
    store.start_run(run(2, "a", start=20.0))  # a long run that ended before the first
    store.finish_run(2, done(30.0, Outcome.FAIL))
    store.start_run(run(3, "a", start=40.0))
    store.finish_run(3, done(41.0, Outcome.FAIL))
    store.start_run(run(4, "a", start=50.0, end=50.0, outcome=Outcome.MISSED))

    assert store.prune(keep_per_task=0, older_than=None) == 1

    assert ids(store.history()) == [4, 3, 1]
    (a,) = store.summaries()
    assert a.last_start == 40.0


def test_prune_by_count_and_age_counts_each_run_once(store: RunStore) -> None:
    for run_id in range(1, 5):
        add_finished(store, run_id, end=float(run_id))
    # 1 and 2 are both too many and too old; 3 is only too old; 4 is kept.
    assert store.prune(keep_per_task=2, older_than=3.5) == 3
    assert ids(store.history()) == [4]


def test_prune_without_limits_deletes_nothing(store: RunStore) -> None:
    add_finished(store, 1)
    assert store.prune(keep_per_task=None, older_than=None) == 0
    assert ids(store.history()) == [1]


def test_prune_rejects_a_negative_count(store: RunStore) -> None:
    with pytest.raises(ValueError):
        store.prune(keep_per_task=-1, older_than=None)


def test_prune_updates_summaries(store: RunStore) -> None:
    add_finished(store, 1, "a")
    add_finished(store, 2, "a")
    add_finished(store, 3, "b")
    store.prune(keep_per_task=None, older_than=2.6)
    assert [(s.task, s.run_count) for s in store.summaries()] == [("a", 1), ("b", 1)]


def test_prune_keeps_each_outcome_s_last_end(store: RunStore) -> None:
    store.start_run(run(1, "a", start=10.0))
    store.finish_run(1, done(11.0, Outcome.SUCCESS))
    store.start_run(run(2, "a", start=20.0))
    store.finish_run(2, done(21.0, Outcome.FAIL))
    store.start_run(run(3, "a", start=30.0))
    store.finish_run(3, done(31.0, Outcome.FAIL))
    assert store.prune(keep_per_task=1, older_than=None) == 1  # the older failure
    # A restarted engine must still know that the task succeeded at 11.0 (e.g. today).
    (a,) = store.summaries()
    assert a.last_end == {Outcome.SUCCESS: 11.0, Outcome.FAIL: 31.0} and a.run_count == 2


def test_runs_closed_at_start_up_count_as_ends(store: RunStore) -> None:
    store.start_run(run(1, "a", start=10.0))
    store.flush()
    store.close_open_runs(50.0, Outcome.CRASH, "died")
    (a,) = store.summaries()
    assert a.last_end == {Outcome.CRASH: 50.0}


def test_ids_keep_increasing_after_prune(store: RunStore) -> None:
    for _ in range(3):
        add_finished(store, store.next_run_id())
    highest = store.history()[0].id
    store.prune(keep_per_task=0, older_than=None)
    assert store.next_run_id() > highest


def test_close_is_idempotent(store: RunStore) -> None:
    store.start_run(run(1))
    store.close()
    store.close()


# -- both backends agree on random operation sequences -------------------------------------


_op = st.one_of(
    st.tuples(st.just("start"), st.sampled_from("abc"), st.floats(0, 100)),
    st.tuples(st.just("begin"), st.sampled_from("abc"), st.floats(0, 100)),
    st.tuples(st.just("finish"), st.sampled_from(list(Outcome)), st.floats(0, 100)),
    st.tuples(st.just("flush")),
    st.tuples(st.just("prune"), st.none() | st.integers(0, 3), st.none() | st.floats(0, 100)),
    st.tuples(st.just("close_open"), st.floats(0, 100)),
)


def _apply(store: RunStore, op: tuple[Any, ...], open_ids: list[int]) -> object:
    match op:
        case ("start", task, start):
            return store.start_run(run(store.next_run_id(), task, start))
        case ("begin", task, start):
            return store.begin_run(task, Trigger.RETRY, start, attempt=2)
        case ("finish", outcome, end) if open_ids:
            return store.finish_run(open_ids[0], done(end, outcome))
        case ("flush",):
            return store.flush()
        case ("prune", keep, older_than):
            return store.prune(keep, older_than)
        case ("close_open", at):
            return store.close_open_runs(at, Outcome.CRASH, "died")
    return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_op, max_size=30))
def test_memory_and_sqlite_agree(ops: list[tuple[Any, ...]]) -> None:
    folder = tempfile.mkdtemp()
    memory, sqlite = MemoryRunStore(), SqliteRunStore(Path(folder) / "h.sqlite3")
    try:
        for op in ops:
            open_ids = sorted(r.id for r in memory.history(limit=1000) if r.end is None)
            assert _apply(memory, op, open_ids) == _apply(sqlite, op, open_ids)
            assert memory.history(limit=1000) == sqlite.history(limit=1000)
        assert memory.summaries() == sqlite.summaries()
        assert memory.next_run_id() == sqlite.next_run_id()
    finally:
        memory.close()
        sqlite.close()
        shutil.rmtree(folder)


# -- SQLite only ------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "history.sqlite3"


def test_sqlite_data_survives_close_and_reopen(db: Path) -> None:
    store = SqliteRunStore(db)
    add_finished(store, store.next_run_id(), "a")
    store.start_run(run(store.next_run_id(), "b"))  # never flushed: close must commit it
    store.set_flag("a", True)
    store.save_tasks(TASKS)
    before = store.history()
    store.close()

    reopened = SqliteRunStore(db)
    try:
        assert reopened.history() == before
        assert reopened.get_flags() == {"a": True}
        assert reopened.tasks() == TASKS
        assert reopened.next_run_id() > max(ids(before))
    finally:
        reopened.close()


def test_sqlite_never_reuses_a_pruned_id_after_reopen(db: Path) -> None:
    store = SqliteRunStore(db)
    add_finished(store, 40)
    add_finished(store, 41)
    store.prune(keep_per_task=0, older_than=None)
    store.close()
    reopened = SqliteRunStore(db)
    try:
        assert ids(reopened.history()) == [41]  # the task's latest success is kept
        assert reopened.next_run_id() > 41
    finally:
        reopened.close()


def test_sqlite_upgrade_to_last_ends_keeps_every_task_s_last_end_per_outcome(db: Path) -> None:
    from tui_sched.store.schema import MIGRATIONS

    # A file as version 3 of the schema left it, with runs in it.
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as conn:
        for statements in MIGRATIONS[:3]:
            for statement in statements:
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 3")
        conn.executemany(
            'INSERT INTO runs (id, task, trigger, start, "end", outcome) VALUES (?, ?, ?, ?, ?, ?)',
            [(1, "a", "scheduled", 1.0, 2.0, "success"), (2, "a", "scheduled", 3.0, 4.0, "fail"),
             (3, "a", "scheduled", 5.0, 6.0, "success"), (4, "b", "scheduled", 7.0, None, None)],
        )
    conn.close()
    store = SqliteRunStore(db)
    try:
        a, b = store.summaries()
        assert a.last_end == {Outcome.SUCCESS: 6.0, Outcome.FAIL: 4.0} and a.run_count == 3
        assert b.last_end == {} and b.run_count == 1
        assert [r.id for r in store.close_open_runs(9.0, Outcome.CRASH, "died")] == [4]
        assert store.summaries()[1].last_end == {Outcome.CRASH: 9.0}
    finally:
        store.close()
    with sqlite3.connect(db) as conn:
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    assert "runs_task_outcome_end" not in indexes and "runs_end" in indexes


def test_sqlite_a_large_flush_writes_every_row_as_given(db: Path) -> None:
    # 37 rows: two multi-row statements of 16 and five rows one by one.
    store = SqliteRunStore(db)
    given: list[RunRecord] = []
    for k in range(1, 38):
        record = run(k, "abc"[k % 3], start=10.0 * k, attempt=1 + k % 2)
        store.start_run(record)
        if k % 5:
            end = done(10.0 * k + 1, Outcome.FAIL if k % 4 == 0 else Outcome.SUCCESS,
                       error=f"e{k}" if k % 4 == 0 else None, output_tail=f"out {k}")
            store.finish_run(k, end)
            record = dataclasses.replace(record, end=end.end, outcome=end.outcome,
                                         error=end.error, output_tail=end.output_tail)
        given.append(record)
    store.close()
    reopened = SqliteRunStore(db)
    try:
        assert reopened.history(limit=100) == given[::-1]
        a = next(s for s in reopened.summaries() if s.task == "a")
        assert a.last_end == {Outcome.SUCCESS: 331.0, Outcome.FAIL: 361.0}
    finally:
        reopened.close()


def test_sqlite_file_is_in_wal_mode_with_a_schema_version(db: Path) -> None:
    store = SqliteRunStore(db)
    try:
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
    finally:
        store.close()


def test_sqlite_new_file_has_small_pages_and_an_old_file_keeps_its_own(tmp_path: Path) -> None:
    from tui_sched.store.sqlite import _PAGE_SIZE, _WAL_AUTOCHECKPOINT_BYTES

    new = SqliteRunStore(tmp_path / "new.sqlite3")
    try:
        new.start_run(run(1, end=2.0, outcome=Outcome.SUCCESS))
        new.wait_written()
    finally:
        new.close()
    # A file made before the page size was set (SQLite's default, 4 KiB).
    old_path = tmp_path / "old.sqlite3"
    with sqlite3.connect(old_path) as conn:
        conn.execute("PRAGMA page_size = 4096")
        conn.execute("CREATE TABLE placeholder (x)")
    conn.close()
    old = SqliteRunStore(old_path)
    try:
        old.start_run(run(1, end=2.0, outcome=Outcome.SUCCESS))
        assert [r.id for r in old.history()] == [1]
        autocheckpoint = old._run("read", lambda c: c.execute(
            "PRAGMA wal_autocheckpoint").fetchone()[0])
    finally:
        old.close()
    sizes = {}
    for name in ("new", "old"):
        with sqlite3.connect(tmp_path / f"{name}.sqlite3") as conn:
            sizes[name] = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.close()
    assert sizes == {"new": _PAGE_SIZE, "old": 4096} and _PAGE_SIZE != 4096
    # The commit-time backstop is the same amount of log whatever the page size.
    assert autocheckpoint == _WAL_AUTOCHECKPOINT_BYTES // 4096


def test_sqlite_unflushed_writes_are_invisible_to_other_connections_until_flush(
    db: Path,
) -> None:
    store = SqliteRunStore(db)
    reader = SqliteRunStore.open_readonly(db)
    try:
        store.start_run(run(1))
        store.set_flag("a", True)
        assert ids(store.history()) == [1]  # the writer sees its own buffer
        assert reader.history() == []
        assert reader.get_flags() == {}

        store.flush()
        store.wait_written()  # the commit itself happens on the store's writer thread

        assert ids(reader.history()) == [1]
        assert reader.get_flags() == {"a": True}
    finally:
        reader.close()
        store.close()


def test_sqlite_second_writable_open_reads_while_the_first_holds_buffered_writes(
    db: Path,
) -> None:
    first = SqliteRunStore(db)
    add_finished(first, 1)
    first.wait_written()
    first.start_run(run(2))
    first.history()  # the first store now holds the write transaction (run 2 in it)
    second = SqliteRunStore(db)
    try:
        assert ids(second.history()) == [1]
        assert [s.run_count for s in second.summaries()] == [1]
    finally:
        second.close()
        first.close()


_READER_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from tui_sched.store import SqliteRunStore
    store = SqliteRunStore.open_readonly(sys.argv[1])
    print(json.dumps([[r.id, r.task, r.outcome] for r in store.history()]))
    store.close()
    """
)


def test_sqlite_another_process_reads_committed_history_while_open(db: Path) -> None:
    store = SqliteRunStore(db)
    try:
        add_finished(store, 1, "a")
        store.start_run(run(2, "b"))
        store.wait_written()
        store.start_run(run(3, "c"))  # buffered: the other process must not see it

        # Wherever this test imported tui_sched from, the child imports the same code.
        repo_root = Path(tui_sched.store.__file__).resolve().parents[2]
        child = subprocess.run(
            [sys.executable, "-c", _READER_SCRIPT, str(db)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PYTHONPATH": str(repo_root)},
            check=False,
        )
        assert child.returncode == 0, child.stderr
        assert json.loads(child.stdout) == [[2, "b", None], [1, "a", "success"]]
        assert ids(store.history()) == [3, 2, 1]  # the writer still works afterwards
    finally:
        store.close()


def test_sqlite_readonly_store_reads_a_closed_file_and_refuses_writes(db: Path) -> None:
    writer = SqliteRunStore(db)
    add_finished(writer, 1)
    writer.close()
    reader = SqliteRunStore.open_readonly(db)
    try:
        assert ids(reader.history()) == [1]
        with pytest.raises(StoreError, match="read-only"):
            reader.start_run(run(1))
        with pytest.raises(StoreError, match="read-only"):
            reader.save_tasks(TASKS)
        reader.flush()  # nothing to commit, and no error
    finally:
        reader.close()


def test_sqlite_readonly_open_of_a_missing_file_fails_without_creating_it(db: Path) -> None:
    with pytest.raises(StoreError, match=str(db)):
        SqliteRunStore.open_readonly(db)
    assert not db.parent.exists()


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    try:
        if os.access(folder, os.W_OK):
            # root ignores mode bits; the immutable attribute stops root too, where the
            # file system and capabilities allow it.
            immutable = subprocess.run(["chattr", "+i", str(folder)], check=False).returncode == 0
            if not immutable:
                pytest.skip("cannot make a folder unwritable for this user")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


@pytest.mark.parametrize("relative", ["h.sqlite3", "sub/h.sqlite3"])
def test_sqlite_unwritable_folder_raises_store_error(unwritable_dir: Path, relative: str) -> None:
    path = unwritable_dir / relative
    with pytest.raises(StoreError, match=str(path)):
        SqliteRunStore(path)


def test_sqlite_parent_that_is_a_file_raises_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    path = tmp_path / "file" / "h.sqlite3"
    with pytest.raises(StoreError, match=str(path)):
        SqliteRunStore(path)


def test_sqlite_corrupt_file_raises_store_error(db: Path) -> None:
    db.parent.mkdir()
    db.write_bytes(b"this is not a database, just some bytes " * 100)
    with pytest.raises(StoreError, match=str(db)):
        SqliteRunStore(db)
    with pytest.raises(StoreError, match=str(db)):
        SqliteRunStore.open_readonly(db)


def test_sqlite_newer_schema_raises_store_error(db: Path) -> None:
    SqliteRunStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(StoreError, match="newer"):
        SqliteRunStore(db)


def test_sqlite_use_after_close_raises_store_error(db: Path) -> None:
    store = SqliteRunStore(db)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.history()
    with pytest.raises(StoreError, match="closed"):
        store.start_run(run(1))


def test_sqlite_store_opened_on_one_thread_works_on_another(db: Path) -> None:
    store = SqliteRunStore(db)
    errors: list[BaseException] = []

    def engine() -> None:
        try:
            for _ in range(50):
                add_finished(store, store.next_run_id())
            store.flush()
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)

    worker = threading.Thread(target=engine)
    worker.start()
    while worker.is_alive():
        store.history(limit=5)  # the UI thread reading through the same store
        store.summaries()
    worker.join()
    try:
        assert errors == []
        assert len(store.history(limit=100)) == 50
    finally:
        store.close()


def test_prune_keeps_one_of_the_runs_that_ended_at_the_same_instant(store: RunStore) -> None:
    for run_id in range(1, 6):
        add_finished(store, run_id, end=100.0)  # a coarse or frozen clock
    assert store.prune(keep_per_task=0, older_than=None) == 4
    assert ids(store.history()) == [5]


# -- recent runs (loaded into the status index at start) ---------------------------------------


def test_recent_runs_are_each_task_s_latest_finished_runs_oldest_first(store: RunStore) -> None:
    for run_id in range(1, 6):
        store.start_run(run(run_id, "a", start=10.0 * run_id))
        store.finish_run(run_id, done(10.0 * run_id + 1,
                                      Outcome.FAIL if run_id % 2 else Outcome.SUCCESS))
    store.start_run(run(6, "a", start=70.0, end=70.0, outcome=Outcome.MISSED))
    store.start_run(run(7, "a", start=80.0))  # still open
    add_finished(store, 8, "b", end=90.0)
    store.flush()

    assert store.recent_runs(3) == {
        "a": [(30.0, 31.0, "fail"), (40.0, 41.0, "success"), (50.0, 51.0, "fail")],
        "b": [(8.0, 90.0, "success")],
    }
    assert store.recent_runs(3, tasks=["b", "nobody"]) == {"b": [(8.0, 90.0, "success")]}
    assert store.recent_runs(0) == {}


def test_a_memory_store_continuing_another_knows_what_it_knew(store: RunStore) -> None:
    store.start_run(run(1, "a", start=10.0))
    store.finish_run(1, done(11.0, Outcome.FAIL))
    add_finished(store, 2, "b")
    store.set_flag("a", True)
    store.set_meta("last_alive", "12.0")
    store.save_tasks(TASKS)
    store.flush()

    memory = MemoryRunStore.continuing(store)
    memory.start_run(run(memory.next_run_id(), "a", start=20.0))
    memory.finish_run(3, done(21.0, Outcome.SUCCESS))

    a, b = memory.summaries()
    assert a == TaskSummary("a", 20.0, {Outcome.FAIL: 11.0, Outcome.SUCCESS: 21.0}, 2)
    assert b == store.summaries()[1]
    assert memory.recent_runs(10)["a"] == [(10.0, 11.0, "fail"), (20.0, 21.0, "success")]
    assert memory.get_flags() == {"a": True}
    assert memory.get_meta("last_alive") == "12.0"
    assert memory.tasks() == TASKS
    assert ids(memory.history()) == [3]


def test_sqlite_recreates_its_file_deleted_while_open_with_every_run(db: Path) -> None:
    store = SqliteRunStore(db)
    add_finished(store, 1)
    store.wait_written()
    db.unlink()
    add_finished(store, 2)
    store.wait_written()  # the commit that notices
    add_finished(store, 3)
    store.wait_written()
    [notice] = store.notices()
    assert f"run history {db} was deleted while the scheduler ran" in notice
    store.close()
    reopened = SqliteRunStore.open_readonly(db)
    try:
        assert ids(reopened.history()) == [3, 2, 1]
    finally:
        reopened.close()
    assert oct(os.stat(db).st_mode & 0o777) == "0o600"


def test_sqlite_stops_writing_a_file_replaced_while_open(db: Path) -> None:
    store = SqliteRunStore(db)
    add_finished(store, 1)
    store.wait_written()
    other = db.with_name("other.sqlite3")
    SqliteRunStore(other).close()
    os.replace(other, db)
    add_finished(store, 2)
    with pytest.raises(StoreError, match="replaced by another one"):
        store.wait_written()
    with pytest.raises(StoreError):
        store.close()
