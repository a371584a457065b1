"""Issue 20 item 2: a task referenced by its function wherever a name is accepted, from
Rocketry's documented examples with only the import changed."""

from __future__ import annotations

from typing import Any

import pytest
from harness import EngineRunner
from rocketry_docs import run_example

from tui_sched import Rocketry
from tui_sched.errors import TaskDefinitionError
from tui_sched.store.base import Outcome


def test_pipelines_of_task_functions_run_in_order() -> None:
    # docs/code/conds/api/pipe_single.py and pipe_multiple.py
    app = Rocketry(state_dir=None, execution="main")
    run_example('''
        from rocketry.conds import after_success, after_fail, after_finish

        @app.task()
        def do_things():
            ...

        @app.task(after_success(do_things))
        def do_after_success():
            ...

        @app.task(after_fail(do_things))
        def do_after_fail():
            ...

        @app.task(after_finish(do_things))
        def do_after_fail_or_success():
            ...
    ''', app=app)
    run_example('''
        from rocketry.conds import after_all_success, after_any_success, after_any_finish, after_any_fail

        @app.task()
        def do_a():
            ...

        @app.task()
        def do_b():
            ...


        @app.task(after_all_success(do_a, do_b))
        def do_all_succeeded():
            ...

        @app.task(after_any_success(do_a, do_b))
        def do_any_succeeded():
            ...

        @app.task(after_any_fail(do_a, do_b))
        def do_any_failed():
            ...

        @app.task(after_any_finish(do_a, do_b))
        def do_any_failed_or_succeeded():
            ...
    ''', app=app)
    assert app.session.check_references() == []
    with EngineRunner(app.session) as r:
        app.session["do_things"].force_run = True
        r.finished("do_after_success")
        r.finished("do_after_fail_or_success")
        app.session["do_a"].force_run = True
        r.finished("do_any_succeeded")
        app.session["do_b"].force_run = True
        r.finished("do_all_succeeded")
        r.sync()
        ran = app.session.get_repo().filter_by(action="success").all()
    names = {rec.task_name for rec in ran}
    assert "do_after_fail" not in names and "do_any_failed" not in names
    assert {"do_after_success", "do_after_fail_or_success", "do_any_succeeded",
            "do_all_succeeded", "do_any_failed_or_succeeded"} <= names


def test_return_of_a_task_function_pipes_its_value() -> None:
    # docs/code/conds/api/pipe_with_return.py
    app = Rocketry(state_dir=None, execution="main")
    ns = run_example('''
        from rocketry.conds import daily, after_success
        from rocketry.args import Return

        @app.task(daily)
        def do_first():
            return 'Hello World'

        @app.task(after_success(do_first))
        def do_second(arg=Return(do_first)):
            # arg's value is "Hello World"
            ...
    ''', app=app)
    got: list[Any] = []

    @app.task(ns["after_success"](ns["do_first"]))
    def check(arg: Any = ns["Return"](ns["do_first"])) -> None:
        got.append(arg)

    with EngineRunner(app.session) as r:
        [second] = r.finished("do_second")
        r.finished("check")
    assert second.outcome is Outcome.SUCCESS
    assert got == ["Hello World"]


def test_task_marker_of_a_task_function_is_that_task() -> None:
    # docs/tutorial/advanced.rst, "Task Parameters" / docs/handbooks/arguments.rst "Task"
    app = Rocketry(state_dir=None)
    ns = run_example('''
        from rocketry.args import Task

        @app.task()
        def do_other():
            ...

        @app.task()
        def do_things(arg=Task(do_other)):
            ...
    ''', app=app)
    got: list[Any] = []

    @app.task(execution="thread")
    def read_task(task: Any = ns["Task"](ns["do_other"])) -> None:
        got.append(task)

    with EngineRunner(app.session) as r:
        app.session["do_things"].force_run = True
        app.session["read_task"].force_run = True
        [run] = r.finished("do_things")
        r.finished("read_task")
    assert run.outcome is Outcome.SUCCESS, run.error
    assert got == [app.session["do_other"]]
    assert app.session[ns["do_other"]].name == "do_other"


def test_task_status_of_a_task_function() -> None:
    # docs/code/conds/api/task_status.py
    app = Rocketry(state_dir=None)
    run_example('''
        from rocketry.conds import finished, succeeded, failed

        @app.task()
        def do_things():
            ... # Dummy task for demonstration

        @app.task(finished(task=do_things).this_hour)
        def do_if_finish():
            ...

        @app.task(succeeded(task=do_things).today.between("10:00", "12:00"))
        def do_if_fail_between():
            ...

        @app.task(failed.this_week.on("Monday"))
        def do_if_itself_fails():
            ...
    ''', app=app)
    assert app.session["do_if_finish"].condition_text == "task 'do_things' has finished this hour"
    assert app.session.check_references() == []


def test_rocketrys_own_typo_multilanch_stays_an_error() -> None:
    # docs/code/conds/api/task_running_multi.py spells the option "multilanch"
    app = Rocketry(state_dir=None)
    with pytest.raises(TaskDefinitionError, match="'multilanch': unknown option; did you mean 'multilaunch'"):
        run_example('''
            from rocketry.conds import running

            @app.task(running <= 4, multilanch=True)
            def do_parallel_limited():
                ... # Allows 4 parallel runs
        ''', app=app)


def test_rocketrys_after_task_with_two_names_says_how_to_write_it() -> None:
    # docs/code/parameter/pipelining.py: Rocketry read "after task 'do_things', 'do_stuff'"
    # as one task named "do_things', 'do_stuff" that never runs
    app = Rocketry(state_dir=None)
    with pytest.raises(TaskDefinitionError) as info:
        run_example('''
            from rocketry.args import Return

            @app.task("after task 'do_things', 'do_stuff'")
            def do_after_all(arg1=Return('do_things'), arg2=Return('do_stuff')):

                assert arg1 == 'hello'
                assert arg2 == 'world'
        ''', app=app)
    assert "several tasks are 'after tasks'" in str(info.value)
    assert "did you mean \"after tasks 'do_things', 'do_stuff'\"?" in str(info.value)
