"""Scheduling behaviour on a fake clock: no sleeping, every tick is deterministic."""

from __future__ import annotations

from datetime import timedelta

import pytest
from harness import START, EngineRunner

from tui_sched import App
from tui_sched.store.base import Outcome, Trigger
from tui_sched.store.sqlite import SqliteRunStore


def noop() -> None:
    return None


def test_every_runs_once_per_span() -> None:
    app = App(state_dir=None)
    app.task("every 10 seconds", func=noop, execution="main")
    with EngineRunner(app.session) as r:
        r.finished("noop", 1)
        r.advance(5)
        assert len(r.starts("noop")) == 1
        r.advance(5)
        r.finished("noop", 2)
        r.advance(9.9)
        assert len(r.starts("noop")) == 2
        r.advance(0.1)
        runs = r.finished("noop", 3)
    starts = [run.start - START.timestamp() for run in runs]
    assert starts == [0, 10, 20]


def test_daily_runs_once_per_day_and_again_tomorrow() -> None:
    app = App(state_dir=None)
    app.task("daily", func=noop, execution="main")
    with EngineRunner(app.session) as r:
        r.finished("noop", 1)
        r.advance(3600 * 14)  # 23:00 the same day
        assert len(r.starts("noop")) == 1
        r.advance(3600)  # 00:00 next day
        r.finished("noop", 2)


def test_after_task_runs_after_each_success() -> None:
    app = App(state_dir=None)
    app.task("every 1 minute", func=noop, execution="main", name="fetch")
    app.task("after task 'fetch'", func=noop, execution="main", name="process")
    with EngineRunner(app.session) as r:
        r.finished("process", 1)
        r.sync()
        assert len(r.starts("process")) == 1
        r.advance(60)
        r.finished("process", 2)
        assert r.starts("fetch")[1].id < r.starts("process")[1].id


def test_after_task_does_not_fire_on_failure() -> None:
    app = App(state_dir=None)

    def broken() -> None:
        raise RuntimeError("boom")

    app.task("every 1 minute", func=broken, execution="main", name="fetch")
    app.task("after task 'fetch'", func=noop, execution="main", name="process")
    app.task("after task 'fetch' failed", func=noop, execution="main", name="alert")
    with EngineRunner(app.session) as r:
        [run] = r.finished("fetch")
        assert run.outcome is Outcome.FAIL and "boom" in (run.error or "")
        r.finished("alert")
        r.sync()
        assert r.starts("process") == []


def test_no_condition_runs_only_when_forced_and_force_ignores_disabled() -> None:
    app = App(state_dir=None)
    task = app.task(func=noop, execution="main", disabled=True)
    with EngineRunner(app.session) as r:
        r.advance(3600)
        assert r.starts("noop") == []
        task.force_run = True
        [run] = r.finished("noop")
        assert run.trigger is Trigger.FORCED
        assert task.force_run is False
        app.session.run_task("noop")
        r.finished("noop", 2)


def test_disabled_task_does_not_run_until_enabled() -> None:
    app = App(state_dir=None)
    task = app.task("every 1 second", func=noop, execution="main")
    task.disabled = True
    with EngineRunner(app.session) as r:
        r.advance(10)
        assert r.starts("noop") == []
        task.disable = False  # the seed's spelling
        r.finished("noop")


def test_disabled_flag_persists_across_engine_restarts(tmp_path) -> None:
    path = tmp_path / "h.sqlite3"
    app = App(state_dir=None)
    app.task("every 1 second", func=noop, execution="main")
    with EngineRunner(app.session, store=SqliteRunStore(path)) as r:
        r.finished("noop")
        app.session["noop"].disabled = True
        r.sync()
    r.store.close()
    fresh = App(state_dir=None)  # a new definition says nothing about `disabled`
    fresh.task("every 1 second", func=noop, execution="main")
    with EngineRunner(fresh.session, store=SqliteRunStore(path), clock=r.clock) as r2:
        r2.advance(5)
        assert fresh.session["noop"].disabled is True
        assert r2.starts("noop") == []
    r2.store.close()


def test_daily_does_not_rerun_after_restart(tmp_path) -> None:
    path = tmp_path / "h.sqlite3"
    app = App(state_dir=None)
    app.task("daily", func=noop, execution="main")
    with EngineRunner(app.session, store=SqliteRunStore(path)) as r:
        r.finished("noop")
    r.store.close()
    with EngineRunner(app.session, store=SqliteRunStore(path), clock=r.clock) as r2:
        r2.advance(3600)
        assert r2.starts("noop") == []
        r2.advance(3600 * 14)  # next day
        r2.finished("noop")
    r2.store.close()


def test_higher_priority_starts_first_within_a_tick() -> None:
    app = App(state_dir=None)
    for name, prio in (("low", 1), ("high", 10), ("mid", 5)):
        app.task("daily", func=noop, name=name, priority=prio, execution="main")
    with EngineRunner(app.session) as r:
        for n in ("low", "high", "mid"):
            r.finished(n)
        order = [s.task for s in (r.starts("high") + r.starts("mid") + r.starts("low"))]
        ids = {s.task: s.id for s in (r.starts("high") + r.starts("mid") + r.starts("low"))}
    assert sorted(order, key=ids.__getitem__) == ["high", "mid", "low"]


def test_task_does_not_overlap_itself_unless_multilaunch() -> None:
    import threading

    release = threading.Event()

    def slow() -> None:
        release.wait(10)

    app = App(state_dir=None)
    app.task("every 1 second", func=slow, name="single")
    app.task("every 1 second", func=slow, name="multi", multilaunch=True)
    with EngineRunner(app.session) as r:
        r.wait_for(lambda e: getattr(getattr(e, "run", None), "task", None) == "multi")
        r.advance(1)
        r.advance(1)
        assert len(r.starts("single")) == 1
        assert len(r.starts("multi")) == 3
        release.set()
        r.finished("single")
        r.finished("multi", 3)


def test_idle_engine_evaluates_nothing_between_wakeups() -> None:
    app = App(state_dir=None)
    for i in range(50):
        app.task("daily", func=noop, name=f"t{i}", execution="main")
    with EngineRunner(app.session) as r:
        r.finished("t49")
        r.sync()
        before = r.engine.evaluations
        for _ in range(20):
            r.sync()  # each is a wake-up with nothing dirty
        r.advance(3600)  # time passes, but no condition said it would change
        assert r.engine.evaluations == before
        r.advance(3600 * 14)  # midnight: each daily task is due exactly once
        r.finished("t49", 2)
        r.sync()
        assert r.engine.evaluations == before + 100  # 50 due + 50 after their runs


def test_create_update_and_delete_tasks_at_run_time() -> None:
    app = App(state_dir=None)
    with EngineRunner(app.session) as r:
        task = app.session.create_task("every 10 seconds", func=noop, execution="main", name="dyn")
        r.finished("dyn")
        task.start_cond = "every 1 second"
        r.advance(1)
        r.finished("dyn", 2)
        with pytest.raises(ValueError, match="timeout"):
            task.timeout = -5
        assert task.timeout is None
        task.timeout = "5 minutes"
        assert task.timeout == 300
        task.delete()
        r.advance(5)
        assert len(r.starts("dyn")) == 2
        assert "dyn" not in app.session


def test_deleting_a_running_task_finishes_its_run() -> None:
    import threading

    release = threading.Event()

    def slow() -> str:
        release.wait(10)
        return "done"

    app = App(state_dir=None)
    app.task("every 1 second", func=slow, name="slow")
    with EngineRunner(app.session) as r:
        r.wait_for(lambda e: getattr(getattr(e, "run", None), "task", None) == "slow")
        app.session.remove_task("slow")
        r.sync()
        release.set()
        [run] = r.finished("slow")
        assert run.outcome is Outcome.SUCCESS
        r.advance(5)
        assert len(r.starts("slow")) == 1


def test_retries_each_attempt_is_its_own_row() -> None:
    attempts = {"n": 0}

    def flaky() -> None:
        attempts["n"] += 1
        raise RuntimeError(f"attempt {attempts['n']}")

    app = App(state_dir=None)
    app.task("daily", func=flaky, execution="main", retries=2, retry_delay="10 seconds")
    with EngineRunner(app.session) as r:
        r.finished("flaky", 1)
        r.advance(10)
        r.finished("flaky", 2)
        r.advance(10)
        runs = r.finished("flaky", 3)
        r.advance(3600)
    assert [x.attempt for x in runs] == [1, 2, 3]
    assert [x.trigger for x in runs] == [Trigger.SCHEDULED, Trigger.RETRY, Trigger.RETRY]
    assert attempts["n"] == 3


def test_start_is_late_by_nothing_on_a_fake_clock() -> None:
    app = App(state_dir=None)
    app.task("every 30 seconds", func=noop, execution="main")
    with EngineRunner(app.session) as r:
        r.finished("noop")
        r.sync()  # its condition was re-checked and a wake-up set for +30 s
        r.advance(30)
        r.finished("noop", 2)
    from tui_sched.engine.events import RunStarted

    due = [e.due for e in r.events if isinstance(e, RunStarted)]
    assert due[1] == (START + timedelta(seconds=30)).timestamp()


def test_the_config_sets_the_default_execution_of_plain_functions() -> None:
    import threading

    seen: list[str] = []

    def where() -> None:
        seen.append(threading.current_thread().name)

    app = App(state_dir=None)
    task = app.task(func=where, force_run=True)
    with EngineRunner(app.session, default_execution="main") as r:
        r.finished("where")
        assert task.execution == "main"
        assert seen == [r.thread.name]  # ran on the engine's own thread
