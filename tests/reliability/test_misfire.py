"""Misfires: the scheduler is stopped across midnight and across cron slots (fake clock),
then started again on the same history file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from harness import EngineRunner

from tui_sched import App
from tui_sched.engine.clock import FakeClock
from tui_sched.engine.events import RunRecorded
from tui_sched.store.base import Outcome, Trigger
from tui_sched.store.sqlite import SqliteRunStore


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def job() -> None:
    return None


def two_sessions(tmp_path: Path, cond: str, first: datetime, second: datetime,
                 **options: object) -> tuple[EngineRunner, EngineRunner]:
    """Run once from ``first`` (until the task ran), stop, start again at ``second``."""
    path = tmp_path / "history.sqlite3"
    clock = FakeClock(first)
    app = App(state_dir=None)
    app.task(cond, func=job, execution="main", **options)
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as r1:
        r1.finished("job")
    r1.store.close()
    clock.set(second)
    r2 = EngineRunner(app.session, store=SqliteRunStore(path), clock=clock)
    return r1, r2


def missed(r: EngineRunner) -> list:
    return [e.run for e in r.events if isinstance(e, RunRecorded) and e.run.outcome is Outcome.MISSED]


@pytest.mark.parametrize("policy", ["once", "skip"])
def test_daily_down_across_two_midnights_runs_once_today_and_records_the_missed_day(
        tmp_path: Path, policy: str) -> None:
    _, r2 = two_sessions(tmp_path, "daily", at(2, 9), at(4, 9), misfire=policy)
    with r2:
        [run] = r2.finished("job")
        r2.advance(3600)
        assert len(r2.starts("job")) == 1
        assert run.trigger is Trigger.SCHEDULED  # today's period is simply due
        [row] = missed(r2)
        assert row.start == at(3, 0).timestamp()
        assert "missed" in (row.error or "")
    r2.store.close()


@pytest.mark.parametrize(("policy", "runs"), [("once", 1), ("skip", 0)])
def test_a_daily_window_that_passed_while_down(tmp_path: Path, policy: str, runs: int) -> None:
    _, r2 = two_sessions(tmp_path, "daily between 10:00 and 12:00", at(2, 10), at(3, 13),
                         misfire=policy)
    with r2:
        r2.sync()
        r2.sync()
        if runs:
            [run] = r2.finished("job")
            assert run.trigger is Trigger.CATCH_UP
        r2.advance(3600)
        assert len(r2.starts("job")) == runs
        assert [m.start for m in missed(r2)] == [at(3, 10).timestamp()]
        r2.advance(20 * 3600)  # the next day's window runs as usual
        r2.finished("job", runs + 1)
    r2.store.close()


@pytest.mark.parametrize(("policy", "catch_up"), [(None, True), ("once", True), ("skip", False)])
def test_cron_down_across_three_slots(tmp_path: Path, policy: str | None, catch_up: bool) -> None:
    options = {} if policy is None else {"misfire": policy}
    # A cron task waits for its first fire, so the first session starts just before it.
    path = tmp_path / "c.sqlite3"
    clock = FakeClock(at(2, 9, 59))
    app = App(state_dir=None)
    app.task("cron 0 * * * *", func=job, execution="main", **options)
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as a:
        a.advance(60)  # 10:00
        a.finished("job")
    a.store.close()
    clock.set(at(2, 13, 30))
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as b:
        b.sync()
        b.sync()
        assert [m.start for m in missed(b)] == [at(2, h).timestamp() for h in (11, 12, 13)]
        if catch_up:
            [run] = b.finished("job")
            assert run.trigger is Trigger.CATCH_UP
        b.advance(25 * 60)  # 13:55
        assert len(b.starts("job")) == int(catch_up)
        b.advance(5 * 60)  # 14:00: the next slot runs normally
        b.finished("job", int(catch_up) + 1)
    b.store.close()


def test_a_late_start_within_the_grace_is_not_a_misfire(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite3"
    clock = FakeClock(at(2, 9, 59))
    app = App(state_dir=None)
    app.task("cron 0 * * * *", func=job, execution="main", misfire_grace="5 minutes")
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as a:
        a.advance(60)
        a.finished("job")
    a.store.close()
    clock.set(at(2, 11, 3))  # 3 minutes after the 11:00 fire
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as b:
        [run] = b.finished("job")
        assert run.trigger is Trigger.SCHEDULED
        assert missed(b) == []
    b.store.close()


def test_every_tasks_do_not_burst_after_downtime(tmp_path: Path) -> None:
    _, r2 = two_sessions(tmp_path, "every 10 minutes", at(2, 9), at(2, 12))
    with r2:
        r2.finished("job")
        r2.advance(9 * 60)
        assert len(r2.starts("job")) == 1
        assert missed(r2) == []
    r2.store.close()


def test_a_catch_up_respects_the_rest_of_an_and_condition(tmp_path: Path) -> None:
    # `daily between 10:00 and 12:00 & env 'prod'` missed its window while down; back
    # under env dev, only the missed window is recorded: nothing runs.
    path = tmp_path / "env.sqlite3"
    clock = FakeClock(at(2, 10))
    app = App(state_dir=None)
    app.task("daily between 10:00 and 12:00 & env 'prod'", func=job, execution="main")
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock, env="prod") as a:
        a.finished("job")
    a.store.close()
    for env, runs in (("dev", 0), ("prod", 1)):
        clock.set(at(3 if env == "dev" else 4, 13))
        with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock, env=env) as b:
            if runs:
                [run] = b.finished("job")
                assert run.trigger is Trigger.CATCH_UP
            b.advance(3600)
            assert len(b.starts("job")) == runs
            assert len(missed(b)) == 1
        b.store.close()
