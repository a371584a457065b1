"""Issue 20 item 9: ``.observe()`` on any condition (its truth now, for tests) and
``running(x).between(...)``, from Rocketry's documented examples with only the import
changed."""

from __future__ import annotations

import threading

from harness import EngineRunner
from rocketry_docs import run_example

from tui_sched import Rocketry, parse_condition
from tui_sched.conds import daily, running
from tui_sched.store.base import Outcome


def test_observe_a_condition_on_its_own() -> None:
    # docs/cookbook/testing.rst, "Conditions"
    run_example('''
        from rocketry.conds import true, false

        cond = true | false

        assert cond.observe()
    ''')


def test_observe_with_a_task_and_the_session() -> None:
    # docs/cookbook/testing.rst, "Conditions"
    app = Rocketry(state_dir=None, execution="main")
    ns = run_example('''
        from rocketry.conds import daily

        @app.task()
        def do_things():
            ...

        assert daily.observe(task=do_things, session=app.session)
    ''', app=app)
    do_things = ns["do_things"]
    with EngineRunner(app.session) as r:
        assert daily.observe(task=do_things, session=app.session)
        app.session["do_things"].force_run = True
        r.finished("do_things")
        r.sync()
        # It ran today: on the running scheduler, and from another thread.
        assert not daily.observe(task=do_things, session=app.session)
        assert not daily.observe(task="do_things", session=app.session)
        assert not daily.observe(task=app.session["do_things"], session=app.session)
    # After the scheduler stopped: from the history it kept.
    assert not daily.observe(task=do_things, session=app.session)


def test_observe_a_custom_condition_with_arguments() -> None:
    app = Rocketry(state_dir=None)

    @app.cond()
    def is_foo(x: int = 0) -> bool:
        return x == 1

    assert (daily & is_foo(x=1)).observe()
    assert not (daily & is_foo(x=2)).observe(session=app.session)


def test_running_between_starts_a_task_while_another_has_run_that_long() -> None:
    # docs/code/conds/api/task_running.py
    app = Rocketry(state_dir=None)
    release = threading.Event()
    ns = run_example('''
        from rocketry.conds import running

        @app.task(end_cond=running.more_than("2 mins"))
        def do_things():
            ... # Terminates if runs over 2 minutes

        @app.task(running(do_things))
        def do_if_runs():
            ... # Starts if do_things is running

        @app.task(running(do_things).less_than("2 mins"))
        def do_if_runs_less_than():
            ... # Starts if do_things is running less than 2 mins

        @app.task(running(do_things).between("2 mins", "5 mins"))
        def do_if_runs_between():
            ...
            # Starts if do_things is running
            # less than 2 mins but no more than 5 minutes
    ''', app=app)
    cond = app.session["do_if_runs_between"].start_cond
    assert str(cond) == "task 'do_things' is running more than 2 minutes less than 5 minutes"
    assert parse_condition(str(cond)) == cond == running(ns["do_things"]).between(120, 300)

    def slow() -> None:
        release.wait(10)

    app.session["do_things"].func = slow
    app.session["do_things"].end_cond = None  # keep it running past 2 minutes
    # These start again whenever they are not running (as in Rocketry): a fake clock
    # that stands still would have them run without pause.
    app.session["do_if_runs"].disabled = True
    app.session["do_if_runs_less_than"].disabled = True
    with EngineRunner(app.session) as r:
        app.session["do_things"].force_run = True
        r.wait_for(lambda e: getattr(getattr(e, "run", None), "task", None) == "do_things")
        assert running(ns["do_things"]).observe(session=app.session)
        assert running(ns["do_things"]).less_than("2 mins").observe(session=app.session)
        r.advance(60)
        assert r.starts("do_if_runs_between") == []
        r.advance(90)
        between = r.finished("do_if_runs_between")[0]
        assert r.starts("do_if_runs_between")[0].start == r.starts("do_things")[0].start + 150
        app.session["do_if_runs_between"].disabled = True
        release.set()
        r.finished("do_things")
    assert between.outcome is Outcome.SUCCESS
