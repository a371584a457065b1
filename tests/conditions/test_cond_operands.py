"""Operands of ``& | ~`` (issue 17 item 16): condition objects and functions registered
with ``@app.cond()`` (as Rocketry allows); anything else is refused where it is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from condtest import Statuses, at

from tui_sched import App, conds
from tui_sched.conditions import All, parse_condition
from tui_sched.conditions.operands import NotACondition
from tui_sched.errors import TuiSchedError


def is_foo() -> bool:
    return True


@pytest.mark.parametrize(
    ("build", "expression", "says"),
    [
        (lambda: conds.daily & is_foo, "daily & is_foo", "is_foo is a plain function"),
        (lambda: is_foo | conds.daily, "is_foo | daily", "is_foo is a plain function"),
        (lambda: conds.daily & 42, "daily & 42", "42 (of type int) is not a condition"),
        (lambda: conds.daily | True, "daily | True", "use tui_sched.conds.true"),
        (lambda: conds.daily & "hourly", "daily & 'hourly'", "write the whole condition"),
        (lambda: All((conds.daily, is_foo)), "daily & is_foo", "@app.cond()"),
    ],
)
def test_a_non_condition_operand_is_refused_naming_it(
    build: Callable[[], Any], expression: str, says: str
) -> None:
    with pytest.raises(NotACondition) as info:
        build()
    assert isinstance(info.value, TuiSchedError) and isinstance(info.value, TypeError)
    assert f"in `{expression}`" in str(info.value)
    assert says in str(info.value)


def test_a_plain_function_operand_says_how_to_register_it() -> None:
    with pytest.raises(NotACondition, match=r"put\w* @app.cond\(\) above its def"):
        conds.every("10 seconds") & is_foo


def test_a_task_function_operand_points_to_after_success() -> None:
    app = App(state_dir=None)

    @app.task("daily")
    def fetch() -> None:
        pass

    with pytest.raises(NotACondition, match=r"fetch is a task.*after_success\(fetch\)"):
        conds.daily & fetch


def test_a_registered_function_is_an_operand_that_calls_it() -> None:
    app = App(state_dir=None)
    answer = {"value": False}

    @app.cond()
    def is_ready() -> bool:
        return answer["value"]

    cond = conds.daily & is_ready
    assert str(cond) == "daily & is_ready"
    assert cond == parse_condition("daily & is_ready", app.session.custom_conditions)
    assert is_ready() is False  # still the function, callable as before
    ctx = Statuses().ctx(at("2024-05-15 10:00"), custom=app.session.custom_conditions)
    assert not cond.evaluate(ctx)
    answer["value"] = True
    assert cond.evaluate(ctx)


def test_a_registered_function_is_a_start_condition_on_its_own() -> None:
    app = App(state_dir=None)

    @app.cond("is foo")
    def foo_holds() -> bool:
        return True

    @app.task(foo_holds)
    def work() -> None:
        pass

    assert str(app.session["work"].start_cond) == "is foo"
    assert "foo_holds" not in [t.name for t in app.session.tasks]


def test_a_registered_function_that_needs_arguments_cannot_stand_alone() -> None:
    app = App(state_dir=None)

    @app.cond(r"file (.+) exists")
    def file_exists(path: str) -> bool:
        return path == "x.csv"

    with pytest.raises(NotACondition, match=r"file_exists needs arguments.*file \(\.\+\) exists"):
        conds.daily & file_exists


def test_an_unknown_start_condition_type_is_refused_clearly() -> None:
    app = App(state_dir=None)
    with pytest.raises(NotACondition, match=r"42 \(of type int\) is not a condition"):
        app.task(42, func=is_foo)


def test_task_functions_name_their_tasks_in_conditions() -> None:
    """DESIGN §6.3: functions as task references, as Rocketry users write them."""
    app = App(state_dir=None)

    @app.task("daily", name="fetch data")
    def fetch() -> None:
        pass

    def report() -> None:  # not decorated: a function task is named after its function
        pass

    assert str(conds.after_success(fetch)) == "after task 'fetch data'"
    assert str(conds.after_any_fail(fetch, report)) == (
        "after task 'fetch data' failed | after task 'report' failed")
    assert str(conds.failed(fetch).today) == "task 'fetch data' has failed today"
    assert str(conds.running(fetch)) == "task 'fetch data' is running"
    assert conds.after_success(fetch).task_refs() == frozenset({"fetch data"})
    with pytest.raises(TypeError, match="a task is given by its name or its function"):
        conds.after_success(42)  # type: ignore[arg-type]
