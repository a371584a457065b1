"""Issue 20 item 7: ``task.run(**params)`` (a run with these parameters, queued as a
batch), ``task.is_running``, setting ``task.func``, from Rocketry's documented examples
with only the import changed."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from harness import EngineRunner
from rocketry_docs import run_example

from tui_sched import Rocketry
from tui_sched.errors import TaskDefinitionError
from tui_sched.store.base import Outcome


def test_task_run_queues_one_run_per_call_with_its_parameters() -> None:
    # docs/handbooks/parameterization.rst, "Batch Parameters"
    app = Rocketry(state_dir=None, execution="main")
    ns = run_example('''
        @app.task()
        def do_things(arg):
            ...

        # Getting a task instance
        task = app.session[do_things]

        # Setting batch run
        task.run(arg="a value")
    ''', app=app)
    got: list[Any] = []

    @app.task(execution="thread", parameters={"arg": "own"})
    def echo(arg: Any) -> Any:
        got.append(arg)
        return arg

    task = app.session[echo]
    task.run(arg=1)
    task.run({"arg": 2})
    with EngineRunner(app.session) as r:
        [first] = r.finished("do_things")
        runs = r.finished("echo", count=2)
        task.run()  # no parameters: the task's own
        runs += r.finished("echo", count=3)[2:]
    assert first.outcome is Outcome.SUCCESS, first.error
    assert got == [1, 2, "own"]
    assert [run.trigger for run in runs] == ["forced"] * 3
    assert ns["task"] is app.session["do_things"]


def test_a_metatask_runs_another_task_with_parameters() -> None:
    # docs/handbooks/parameterization.rst, the note's manual_run example
    app = Rocketry(state_dir=None)
    run_example('''
        from rocketry.conds import minutely

        @app.task()
        def do_things(arg):
            ...
            return arg

        def get_task_to_run():
            ... # Get name of the task to run
            return {
                'name': 'do_things',
                'params': {'arg': 'a value'}
            }

        @app.task(minutely, execution="main")
        def manual_run():

            # Get the task to run and its parameters
            task_to_run = get_task_to_run()
            task_name = task_to_run['name']
            params = task_to_run['params']

            # Set the task running with the given
            # parameters
            task = app.session[task_name]
            task.run(params)
    ''', app=app)
    with EngineRunner(app.session) as r:
        [run] = r.finished("do_things")
    assert run.outcome is Outcome.SUCCESS and run.return_summary == "'a value'"


def test_setting_task_func_replaces_what_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # docs/cookbook/settings.rst, "set_tasks" (a setup hook)
    monkeypatch.setenv("ENV", "test-schedule")
    app = Rocketry(state_dir=None, execution="main")

    @app.task("daily")
    def do_real_work() -> str:
        raise RuntimeError("must not run in test-schedule")

    run_example('''
        from rocketry.args import EnvArg, Session

        def do_nothing(*args, **kwargs):
            ...

        @app.setup()
        def set_tasks(session=Session(), env=EnvArg("ENV", default="dev")):
            if env == "test-schedule":
                # Set all tasks to run nothing
                # to test the scheduling works
                for task in session.tasks:
                    task.func = do_nothing
    ''', app=app)
    with EngineRunner(app.session) as r:
        [run] = r.finished("do_real_work")
    assert run.outcome is Outcome.SUCCESS
    assert app.session["do_real_work"].func.__name__ == "do_nothing"
    with pytest.raises(TaskDefinitionError, match="func must be callable"):
        app.session["do_real_work"].func = 42


def test_is_running_while_a_run_is_in_progress() -> None:
    app = Rocketry(state_dir=None)
    release = threading.Event()
    started = threading.Event()

    @app.task(execution="thread")
    def slow() -> None:
        started.set()
        assert release.wait(10)

    task = app.session["slow"]
    assert task.is_running is False
    with EngineRunner(app.session) as r:
        task.run()
        assert started.wait(10)
        assert task.is_running is True
        release.set()
        r.finished("slow")
        r.sync()
        assert task.is_running is False


def test_run_with_a_parameter_the_function_does_not_take_is_refused() -> None:
    app = Rocketry(state_dir=None)

    @app.task()
    def do_things(arg: Any) -> None: ...

    with pytest.raises(TaskDefinitionError, match="takes no parameter argg"):
        app.session[do_things].run(argg=1)
