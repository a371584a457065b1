"""Pruning is paced: a task is queued by its own run count, and a tick prunes a slice."""

from __future__ import annotations

from pathlib import Path

from tui_sched.engine.retention import Retention
from tui_sched.store import Outcome, RunEnd, RunRecord, SqliteRunStore, Trigger


def _fill(store: SqliteRunStore, tasks: list[str], per_task: int) -> None:
    for task in tasks:
        for _ in range(per_task):
            run_id = store.next_run_id()
            store.start_run(RunRecord(run_id, task, Trigger.SCHEDULED, float(run_id)))
            store.finish_run(run_id, RunEnd(float(run_id) + 0.5, Outcome.SUCCESS))
    store.flush()


def _sizes(store: SqliteRunStore, tasks: list[str]) -> list[int]:
    return [len(store.history(task, limit=10_000)) for task in tasks]


def test_a_task_is_queued_after_a_tenth_of_keep_runs_finished(tmp_path: Path) -> None:
    store = SqliteRunStore(tmp_path / "h.sqlite3")
    _fill(store, ["busy", "quiet"], 60)
    retention = Retention(store.prune, keep_runs=50, keep_days=None)
    assert retention.threshold == 5
    retention.next_sweep = float("inf")  # only the count decides here

    for _ in range(4):
        retention.finished("busy", 0.0)
    assert not retention.pending()
    retention.finished("busy", 0.0)
    assert retention.pending()

    assert retention.step(0.0) == 10
    assert _sizes(store, ["busy", "quiet"]) == [50, 60]  # quiet was never queued
    assert not retention.pending()
    store.close()


def test_a_step_stops_at_its_budget_and_the_rest_waits(tmp_path: Path) -> None:
    store = SqliteRunStore(tmp_path / "h.sqlite3")
    tasks = [f"t{k:02}" for k in range(40)]
    _fill(store, tasks, 3)
    retention = Retention(store.prune, keep_runs=1, keep_days=None)

    retention.sweep(tasks, now=100.0)
    assert retention.next_sweep == 100.0 + retention.every
    # A zero budget still makes progress: one slice per step.
    retention.step(100.0, budget=0.0)
    sizes = _sizes(store, tasks)
    assert sizes.count(1) == 16 and sizes.count(3) == 24
    assert retention.pending()
    while retention.pending():
        retention.step(100.0, budget=0.0)
    assert _sizes(store, tasks) == [1] * 40
    assert retention.deleted == 80
    store.close()


def test_the_sweep_prunes_by_age(tmp_path: Path) -> None:
    store = SqliteRunStore(tmp_path / "h.sqlite3")
    _fill(store, ["a"], 10)  # runs end at 1.5 .. 10.5
    retention = Retention(store.prune, keep_runs=None, keep_days=1.0)
    assert retention.threshold == 0
    retention.finished("a", 0.0)
    assert not retention.pending()  # no count limit: finishing queues nothing

    retention.sweep(["a"], now=86400.0 + 6.0)  # cut-off: 6.0
    assert retention.step(86400.0 + 6.0) == 5
    assert _sizes(store, ["a"]) == [5]
    store.close()
