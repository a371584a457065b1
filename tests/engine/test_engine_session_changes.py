"""Tasks created, changed, reloaded, disabled and enabled while the engine runs (issue
17 items 1, 2, 7 and 13): what starts, and what the stored task list says."""

from __future__ import annotations

from pathlib import Path

from harness import START, EngineRunner

from tui_sched import App
from tui_sched.store.base import Outcome, Trigger
from tui_sched.store.sqlite import SqliteRunStore
from tui_sched.tasks.factory import build_task


def noop() -> None:
    return None


def test_a_task_created_by_a_metatask_runs_after_the_task_it_names(tmp_path: Path) -> None:
    app = App(state_dir=None)
    app.task("every 1 minute", func=noop, execution="main", name="fetch")

    def create() -> None:
        app.session.create_task("after task 'fetch'", func=noop, execution="main",
                                name="process")

    app.task(func=create, execution="main", name="meta", force_run=True)
    with EngineRunner(app.session, store=SqliteRunStore(tmp_path / "h.sqlite3")) as r:
        r.finished("meta")
        r.finished("process")  # fetch had succeeded once: it runs at once
        r.advance(60)
        r.finished("fetch", 2)
        r.finished("process", 2)  # after the next fetch too
        assert r.starts("fetch")[1].id < r.starts("process")[1].id
        listed = r.engine.call(lambda: [t.name for t in r.store.tasks()]).result(10)
        assert sorted(listed) == ["fetch", "meta", "process"]  # what `tui-sched list` prints
    r.store.close()


def test_a_task_given_an_after_task_condition_at_run_time_follows_that_task() -> None:
    app = App(state_dir=None)
    app.task("every 1 minute", func=noop, execution="main", name="fetch")
    follower = app.task("daily", func=noop, execution="main", name="process")
    with EngineRunner(app.session) as r:
        r.finished("process")
        follower.start_cond = "after task 'fetch'"
        r.sync()
        r.advance(60)
        r.finished("fetch", 2)
        r.finished("process", 2)
        listed = {t.name: t.condition for t in r.store.tasks()}
        assert listed["process"] == "after task 'fetch'"


def test_a_pending_retry_is_dropped_by_a_later_success() -> None:
    calls = {"n": 0}

    def flaky() -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("first call fails")

    app = App(state_dir=None)
    app.task("every 10 seconds", func=flaky, execution="main", retries=1,
             retry_delay="1 minute")
    with EngineRunner(app.session) as r:
        [first] = r.finished("flaky")
        assert first.outcome is Outcome.FAIL
        for _ in range(9):
            r.advance(10)
        runs = r.finishes("flaky")
    assert len(runs) == 10  # one every 10 s, and no retry at +60 s among them
    assert [run.trigger for run in runs] == [Trigger.SCHEDULED] * 10
    assert [run.outcome for run in runs[1:]] == [Outcome.SUCCESS] * 9


def test_a_jittered_start_pending_when_disabled_does_not_fire_after_its_window() -> None:
    app = App(state_dir=None)
    task = app.task("daily between 09:00 and 10:00", func=noop, execution="main",
                    jitter="30 minutes")
    with EngineRunner(app.session) as r:
        # At 09:00 the window opened: a start is pending, somewhere in the next 30 min.
        assert r.starts("noop") == []
        task.disabled = True
        r.sync()
        r.advance(2 * 3600)  # 11:00: the window has closed
        task.disabled = False
        r.sync()
        r.advance(60)
        assert r.starts("noop") == []
        r.advance(22 * 3600)  # 09:01 the next day: the next window, a new jittered start
        r.advance(30 * 60)
        [run] = r.finished("noop")
    assert START.timestamp() + 24 * 3600 <= run.start <= START.timestamp() + 24 * 3600 + 1860


def test_a_cron_task_created_at_run_time_waits_for_its_next_slot() -> None:
    app = App(state_dir=None)
    with EngineRunner(app.session) as r:  # 09:00
        r.advance(30 * 60)
        app.session.create_task("cron 0 * * * *", func=noop, execution="main", name="hourly")
        r.sync()
        r.advance(60)
        assert r.starts("hourly") == []  # the 09:00 slot fired before the task existed
        r.advance(29 * 60)  # 10:00
        [run] = r.finished("hourly")
    assert run.start == START.timestamp() + 3600


def test_a_cron_task_added_by_a_reload_waits_for_its_next_slot() -> None:
    app = App(state_dir=None)
    app.task("every 1 hour", func=noop, execution="main", name="other")
    with EngineRunner(app.session) as r:  # 09:00
        r.advance(30 * 60)
        reloaded = build_task("cron 0 * * * *", parse=app.session._parse_condition,
                              func=noop, execution="main", name="hourly")
        app.session.swap_tasks([], [reloaded], [])
        r.sync()
        r.advance(60)
        assert r.starts("hourly") == []
        r.advance(29 * 60)  # 10:00
        [run] = r.finished("hourly")
    assert run.start == START.timestamp() + 3600
