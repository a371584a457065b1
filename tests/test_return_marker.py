"""``Return(func)``: a task function stands for its task, as in Rocketry (DESIGN §6.3,
issue 17 item 15); a function that is not a task is an error, never a silent ``None``."""

from __future__ import annotations

import pytest
from harness import EngineRunner

from tui_sched import App
from tui_sched.args import Return
from tui_sched.store.base import Outcome
from tui_sched.tasks.args import NotATask


def test_return_of_a_decorated_task_function_is_its_last_return_value() -> None:
    app = App(state_dir=None)

    @app.task("daily", execution="main")
    def do_first() -> str:
        return "Hello World"

    @app.task("after task 'do_first'", execution="main")
    def do_second(arg: str = Return(do_first)) -> str:
        return f"got {arg}"

    with EngineRunner(app.session) as r:
        [run] = r.finished("do_second")
    assert run.outcome is Outcome.SUCCESS
    assert run.return_summary == "'got Hello World'"


def test_return_of_a_function_given_as_func_finds_the_task_made_from_it() -> None:
    app = App(state_dir=None)

    def produce() -> int:
        return 42

    app.task("daily", func=produce, name="producer", execution="main")

    def consume(value: int = Return(produce)) -> int:
        return value + 1

    app.task("after task 'producer'", func=consume, execution="main")
    with EngineRunner(app.session) as r:
        [run] = r.finished("consume")
    assert run.outcome is Outcome.SUCCESS and run.return_summary == "43"


def test_return_of_a_function_that_is_no_task_fails_the_run_saying_so() -> None:
    app = App(state_dir=None)

    def helper() -> int:
        return 1

    @app.task("daily", execution="main")
    def needs_helper(value: int = Return(helper, default=0)) -> int:
        return value

    with EngineRunner(app.session) as r:
        [run] = r.finished("needs_helper")
    assert run.outcome is Outcome.FAIL
    assert run.error is not None
    assert "Return(helper): the function helper is not a task in this session" in run.error
    assert "@app.task" in run.error


def test_return_of_something_else_is_refused_when_written() -> None:
    with pytest.raises(NotATask, match="Return\\(\\) takes a task name or a task function"):
        Return(42)  # type: ignore[arg-type]
