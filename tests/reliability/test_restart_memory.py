"""What conditions know survives a restart on the same history file (fake clock): counts
(``has failed today < 2``), ``retry(n)``, and a period's run however short ``keep_days``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from harness import EngineRunner

from tui_sched import App
from tui_sched.engine.clock import FakeClock
from tui_sched.store.base import Outcome
from tui_sched.store.sqlite import SqliteRunStore


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)


def fail() -> None:
    raise RuntimeError("down")


def test_a_count_condition_still_sees_the_failures_before_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    clock = FakeClock(at(9))
    app = App(state_dir=None)
    app.task("every 10 minutes & has failed today < 2", func=fail, name="flaky",
             execution="main")
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as r1:
        r1.finished("flaky")
        r1.advance(600)
        runs = r1.finished("flaky", 2)
        r1.advance(600)
        assert len(r1.starts("flaky")) == 2  # two failures today: no third try
    r1.store.close()
    assert [run.outcome for run in runs] == [Outcome.FAIL] * 2

    clock.advance(600)
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as r2:
        r2.advance(600)
        r2.advance(600)
        assert r2.starts("flaky") == []  # still two failures today
        clock.set(datetime(2026, 3, 3, 0, 0, 1, tzinfo=UTC))
        r2.sync()
        assert len(r2.finished("flaky")) == 1  # a new day, a new count
    r2.store.close()


def test_retry_n_counts_the_failures_in_a_row_before_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    clock = FakeClock(at(9))
    app = App(state_dir=None)
    # Once a day; retried from 10:00 while at most two runs in a row have failed.
    app.task("daily | (retry(2) & time of day between 10:00 and 11:00)", func=fail,
             name="flaky", execution="main")
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as r1:
        r1.finished("flaky")
        r1.advance(60)
    r1.store.close()

    clock.set(at(10, 5))
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as r2:
        retries = r2.finished("flaky", 2)  # the failure before the restart was the first
        r2.advance(60)
        assert len(r2.starts("flaky")) == 2
    r2.store.close()
    assert [run.outcome for run in retries] == [Outcome.FAIL] * 2


def test_a_keep_days_shorter_than_the_period_does_not_make_a_restart_rerun_it(
        tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    clock = FakeClock(at(9))
    app = App(state_dir=None)
    app.task("daily", func=lambda: None, name="report", execution="main")
    app.task("after task 'report'", func=lambda: None, name="mail", execution="main")
    store = SqliteRunStore(path)
    with EngineRunner(app.session, store=store, clock=clock, keep_days=0.01) as r1:  # 14 min
        r1.finished("report")
        r1.finished("mail")
        for _ in range(8):  # two hourly sweeps, each pruning what ended 14 minutes before
            r1.advance(900)
        r1.sync()
    store.close()

    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock,
                      keep_days=0.01) as r2:
        r2.advance(60)
        r2.advance(3600)
        assert r2.starts("report") == []  # it ran today
        assert r2.starts("mail") == []  # and mail has run after it
        kept = r2.engine.call(lambda: r2.store.history(limit=10)).result()
    r2.store.close()
    # Of all the history, each task's latest run is what pruning keeps.
    assert sorted(run.task for run in kept) == ["mail", "report"]
