"""Engine bugs the differential test (``test_differential.py``) found, each as a minimal
deterministic scenario on the fake clock. While a bug is open its test is a strict xfail
and its shape is kept out of the stateful generator by a name in
``diffgen.KNOWN_ENGINE_BUGS`` (given in the test's docstring); all of these are fixed,
so the generator covers every shape again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from harness import EngineRunner

from tui_sched import App
from tui_sched.engine.clock import FakeClock
from tui_sched.engine.session import Session
from tui_sched.store.base import Trigger
from tui_sched.store.sqlite import SqliteRunStore


def at(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC).timestamp()


def job() -> None:
    return None


def starts(r: EngineRunner, task: str = "job") -> list[tuple[float, Trigger]]:
    return [(run.start, run.trigger) for run in r.starts(task)]


@pytest.mark.parametrize("policy", ["once", "skip"])
def test_a_cron_slot_due_at_the_restart_runs_as_scheduled(tmp_path: Path, policy: str) -> None:
    """KNOWN_ENGINE_BUGS: ``cron_fire_at_restart``. Down from 10:00 to 10:30 under
    ``cron */5``: 10:05 ... 10:25 were missed; the 10:30 slot is simply due now (README,
    Reliability: "a start less than misfire_grace late is not a misfire")."""
    path = tmp_path / "h.sqlite3"
    app = App(state_dir=None)
    app.task("cron */5 * * * *", func=job, execution="main", misfire=policy)
    clock = FakeClock(at(2, 9, 55))  # a cron task waits for its first fire: 10:00
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as a:
        a.advance(300)
        a.finished("job")
    a.store.close()
    clock.set(at(2, 10, 30))
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as b:
        b.sync()
        b.sync()
        assert starts(b) == [(at(2, 10, 30), Trigger.SCHEDULED)]
    b.store.close()


def test_a_catch_up_waits_for_the_rest_of_the_condition(tmp_path: Path) -> None:
    """KNOWN_ENGINE_BUGS: ``catch_up_ignores_rest``. ``daily & time of day after 12:00``
    ran on the 2nd, the scheduler was down through the 3rd; back at 09:00 on the 4th, it
    does not run before 12:00 (and then once)."""
    path = tmp_path / "h.sqlite3"
    app = App(state_dir=None)
    app.task("daily & time of day after 12:00", func=job, execution="main")
    clock = FakeClock(at(2, 12))
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as a:
        a.finished("job")
    a.store.close()
    clock.set(at(4, 9))
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as b:
        b.sync()
        b.advance(3 * 3600)
        b.advance(3600)
        assert starts(b) == [(at(4, 12), Trigger.SCHEDULED)]
    b.store.close()


def test_a_pending_catch_up_runs_once_the_rest_of_the_condition_holds(tmp_path: Path) -> None:
    """Found by ``make test-deep`` (the engine decided a catch-up once, at start-up).
    ``cron */5 & has started today != 0`` missed the night; back at 00:16 the rest does
    not hold (nothing started today), so no catch-up yet; a forced run makes it hold, and
    the catch-up owed runs then."""
    path = tmp_path / "h.sqlite3"
    app = App(state_dir=None)
    app.task("cron */5 * * * * & has started today != 0", func=job, execution="main")
    clock = FakeClock(at(2, 10))
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as a:
        a.session["job"].force_run = True
        a.finished("job")
        a.advance(300)
        a.finished("job", 2)  # 10:05, by its condition
    a.store.close()
    clock.set(at(3, 0, 16))
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as b:
        b.sync()
        assert starts(b) == []  # the rest does not hold: the catch-up waits
        b.session["job"].force_run = True
        b.finished("job", 2)
        assert starts(b) == [(at(3, 0, 16), Trigger.FORCED), (at(3, 0, 16), Trigger.CATCH_UP)]
    b.store.close()


def test_a_catch_up_due_with_a_retry_runs_first_and_its_success_drops_the_retry(
        tmp_path: Path) -> None:
    """Found by ``make test-deep`` (the engine ran the retry, then the catch-up: a run
    more). As above, with a forced run that fails (``retries=1``, no delay): the
    catch-up and the retry are due at once; the catch-up runs, succeeds, and so drops
    the retry."""
    fail = [True, False, False]  # (popped from the end) the forced run after the restart fails

    def flaky() -> None:
        if fail and fail.pop():
            raise RuntimeError("boom")

    path = tmp_path / "h.sqlite3"
    app = App(state_dir=None)
    app.task("cron */5 * * * * & has started today != 0", func=flaky, execution="main",
             retries=1, retry_delay=0, name="job")
    clock = FakeClock(at(2, 10))
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as a:
        a.session["job"].force_run = True
        a.finished("job")
        a.advance(300)
        a.finished("job", 2)  # 10:05, by its condition
    a.store.close()
    clock.set(at(3, 0, 16))
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as b:
        b.sync()
        b.session["job"].force_run = True
        b.finished("job", 2)
        b.sync()
        b.advance(60)
        assert starts(b) == [(at(3, 0, 16), Trigger.FORCED), (at(3, 0, 16), Trigger.CATCH_UP)]
    b.store.close()


def test_a_task_created_at_run_time_follows_its_upstream() -> None:
    """KNOWN_ENGINE_BUGS: ``runtime_dependents``."""
    app = App(state_dir=None)
    app.task("every 1 hour", func=job, execution="main", name="up")
    with EngineRunner(app.session, clock=FakeClock(at(2, 9))) as r:
        r.finished("up")
        r.session.create_task("after task 'up'", func=job, execution="main", name="down")
        r.sync()
        r.advance(3600)
        r.sync()
        assert [s[0] for s in starts(r, "down")] == [at(2, 9), at(2, 10)]


def test_a_disabled_task_does_not_retry() -> None:
    """KNOWN_ENGINE_BUGS: ``retry_while_disabled``. A forced run of a disabled task fails;
    its retry is not run while the task stays disabled."""
    fail = [True]

    def flaky() -> None:
        if fail.pop():
            raise RuntimeError("boom")

    app = App(state_dir=None)
    app.task(func=flaky, execution="main", retries=1, retry_delay=60, name="job")
    with EngineRunner(app.session, clock=FakeClock(at(2, 9))) as r:
        r.session["job"].disabled = True
        r.session["job"].force_run = True
        r.finished("job")
        r.advance(60)
        r.advance(3600)
        assert starts(r) == [(at(2, 9), Trigger.FORCED)]


def test_the_retry_of_a_forced_run_that_failed_while_disabled_runs_once_enabled() -> None:
    """Found by ``make test-deep``: the retry waits for the task to be enabled (the
    reference's rule), rather than never being made."""
    fail = [True]

    def flaky() -> None:
        if fail and fail.pop():
            raise RuntimeError("boom")

    app = App(state_dir=None)
    app.task(func=flaky, execution="main", retries=1, retry_delay=60, name="job")
    with EngineRunner(app.session, clock=FakeClock(at(2, 9))) as r:
        r.session["job"].disabled = True
        r.session["job"].force_run = True
        r.finished("job")
        r.advance(3600)
        assert starts(r) == [(at(2, 9), Trigger.FORCED)]
        r.session["job"].disabled = False
        r.finished("job", 2)
        assert starts(r) == [(at(2, 9), Trigger.FORCED), (at(2, 10), Trigger.RETRY)]


def test_a_task_created_again_keeps_running_after_a_restart() -> None:
    """KNOWN_ENGINE_BUGS: ``flag_of_removed_task``. ``job`` is disabled, removed and
    created again (enabled, it runs); after a restart it is still enabled."""
    app = App(state_dir=None)
    app.task("every 1 hour", func=job, execution="main")
    clock = FakeClock(at(2, 9))
    with EngineRunner(app.session, clock=clock) as a:
        a.finished("job")
        a.session["job"].disabled = True
        a.session.remove_task("job")
        a.session.create_task("every 1 hour", func=job, execution="main", name="job")
        a.advance(3600)
        a.finished("job", 2)
    session = Session()
    session.create_task("every 1 hour", func=job, execution="main", name="job")
    with EngineRunner(session, store=a.store, clock=clock) as b:
        b.advance(3600)
        assert starts(b) == [(at(2, 11), Trigger.SCHEDULED)]


def test_a_success_drops_the_pending_retry() -> None:
    """KNOWN_ENGINE_BUGS: ``retry_survives_success``."""
    fail = [False, True]

    def flaky() -> None:
        if fail.pop():
            raise RuntimeError("boom")

    app = App(state_dir=None)
    app.task("every 30 minutes", func=flaky, execution="main", retries=1,
             retry_delay="1 hour", name="job")
    with EngineRunner(app.session, clock=FakeClock(at(2, 9))) as r:
        r.finished("job")
        r.advance(1800)  # 09:30: succeeds
        r.advance(1800)  # 10:00: the retry of 09:00's failure is moot
        assert starts(r) == [(at(2, 9), Trigger.SCHEDULED), (at(2, 9, 30), Trigger.SCHEDULED),
                             (at(2, 10), Trigger.SCHEDULED)]


def test_a_cron_task_added_at_run_time_waits_for_its_next_fire() -> None:
    """KNOWN_ENGINE_BUGS: ``cron_added_at_runtime``."""
    app = App(state_dir=None)
    app.task("every 1 hour", func=job, execution="main", name="other")
    with EngineRunner(app.session, clock=FakeClock(at(2, 9))) as r:
        r.advance(20 * 60)  # 09:20: the 09:15 slot fired before the task existed
        r.session.create_task("cron */15 * * * *", func=job, execution="main", name="job")
        r.sync()
        r.advance(10 * 60)
        assert starts(r) == [(at(2, 9, 30), Trigger.SCHEDULED)]


def test_a_count_condition_remembers_runs_across_a_restart() -> None:
    """KNOWN_ENGINE_BUGS: ``counts_forget_on_restart``. ``every 1 hour & has succeeded
    today < 2`` ran at 09:00 and 10:00; after a restart it does not run at 11:00."""
    app = App(state_dir=None)
    app.task("every 1 hour & has succeeded today < 2", func=job, execution="main")
    clock = FakeClock(at(2, 9))
    with EngineRunner(app.session, clock=clock) as a:
        a.advance(3600)
        a.finished("job", 2)
    with EngineRunner(app.session, store=a.store, clock=clock) as b:
        b.advance(3600)
        assert starts(b) == []


def test_a_condition_waits_out_scheduler_started_ago() -> None:
    """KNOWN_ENGINE_BUGS: ``scheduler_age_edge`` (``conditions/scheduler.py``)."""
    app = App(state_dir=None)
    app.task("daily & ~(scheduler started 10 minutes ago)", func=job, execution="main")
    with EngineRunner(app.session, clock=FakeClock(at(2, 9))) as r:
        r.advance(600)  # the edge: still "started 10 minutes ago"
        r.advance(60)
        assert len(starts(r)) == 1


def test_a_count_condition_given_at_run_time_counts_the_runs_before_the_restart() -> None:
    """A condition that counts runs, given after a restart (a new condition, a task
    created at run time), counts the runs from before the restart too: ``job`` ran at
    09:00 and 10:00, the scheduler restarted, then ``job`` got ``has succeeded today
    < 2`` and ``gate`` was created counting ``job``'s runs: neither runs at 11:00 and
    12:00."""
    app = App(state_dir=None)
    app.task("every 1 hour", func=job, execution="main")
    clock = FakeClock(at(2, 9))
    with EngineRunner(app.session, clock=clock) as a:
        a.advance(3600)
        a.finished("job", 2)
    with EngineRunner(app.session, store=a.store, clock=clock) as b:
        b.advance(1800)  # 10:30, nothing due
        b.session["job"].start_cond = "every 1 hour & has succeeded today < 2"
        b.session.create_task("every 30 minutes & task 'job' has succeeded today < 2",
                              func=job, execution="main", name="gate")
        b.sync()
        b.advance(3600)
        assert starts(b) == []
        assert starts(b, "gate") == []


def test_a_count_given_at_run_time_counts_each_run_since_the_start_once() -> None:
    """Runs since the restart are in memory and (once written) in the store: a count
    given at run time counts each once. ``has succeeded today < 3`` given after one run
    before the restart and one after allows exactly one more."""
    app = App(state_dir=None)
    app.task("every 1 hour", func=job, execution="main")
    clock = FakeClock(at(2, 9))
    with EngineRunner(app.session, clock=clock) as a:
        a.finished("job", 1)
    with EngineRunner(app.session, store=a.store, clock=clock) as b:
        b.advance(3600)
        b.finished("job", 1)  # 10:00
        b.sync()
        b.session["job"].start_cond = "every 1 hour & has succeeded today < 3"
        b.sync()
        b.advance(3600)  # 11:00: the third
        b.advance(3600)  # 12:00: no fourth
        b.advance(3600)
        assert [start for start, _ in starts(b)] == [at(2, 10), at(2, 11)]


def test_a_dependent_is_decided_in_its_place_by_priority() -> None:
    """Found by ``make test-deep`` (the engine decided the dependents of a run only after
    every task due at that moment). ``a`` (priority 4) and ``d`` (priority 0) are due at
    00:05; ``e`` (priority 3) follows ``a`` unless ``d`` has run too: decided in its
    place by priority, after ``a`` and before ``d``, it runs (as in a pass over every
    task by priority, Rocketry's loop)."""
    app = App(state_dir=None)
    app.task("every 5 minutes", func=job, execution="main", name="a", priority=4)
    app.task("(hourly | after task 'a') & ~(after tasks 'a', 'd')", func=job,
             execution="main", name="e", priority=3)
    app.task("every 5 minutes", func=job, execution="main", name="d", priority=0)
    with EngineRunner(app.session, clock=FakeClock(at(28, 0))) as r:
        r.advance(300)
        assert [start for start, _ in starts(r, "e")] == [at(28, 0), at(28, 0, 5)]


def test_a_slot_missed_before_a_restart_does_not_use_up_a_slot_firing_at_the_restart(
        tmp_path: Path) -> None:
    """Found by ``make test-deep``: a missed row ended at the restart, and the next start
    read that end as the latest missed slot. ``job`` (``hourly & time of day before
    01:00``) ran at 00:00, the scheduler was down until 02:00 (01:00 missed, 02:00 not
    run: the rest of the condition), then started again at 02:00, where ``job`` becomes
    ``cron */5``: its 02:00 slot fires at once, as it would without the downtime."""
    path = tmp_path / "h.sqlite3"
    app = App(state_dir=None)
    app.task("hourly & time of day before 01:00", func=job, execution="main")
    clock = FakeClock(at(28, 0))
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as a:
        a.finished("job")
    a.store.close()
    clock.set(at(28, 2))
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as b:
        b.sync()
        assert [r.outcome for r in b.store.history("job", 5)] == ["missed", "success"]
        b.session.remove_task("job")
        b.sync()
    b.store.close()
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=clock) as c:
        c.session.create_task("cron */5 * * * *", func=job, execution="main", name="job")
        c.finished("job")
        assert starts(c) == [(at(28, 2), Trigger.SCHEDULED)]
    c.store.close()
