"""Issue 20 item 4: ``@app.cond()`` with no syntax, used as an object, with and without
arguments, from Rocketry's documented examples with only the import changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import EngineRunner
from rocketry_docs import run_example

from tui_sched import App, Rocketry, conds, parse_condition
from tui_sched.store.base import Outcome


def test_a_custom_condition_with_an_argument_gates_the_task(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # docs/code/snippets/custom_condition.py
    monkeypatch.chdir(tmp_path)
    ns = run_example('''
        from pathlib import Path
        from rocketry import Rocketry
        from rocketry.conds import daily

        app = Rocketry()

        @app.cond()
        def file_exists(file):
            "Custom condition that checks if file exists"
            return Path(file).exists()

        @app.task(daily & file_exists("data.csv"))
        def do_things():
            "Task that runs once a day when data.csv exists"
            ...

        if __name__ == "__main__":
            app.run()
    ''')
    app = ns["app"]
    task = app.session["do_things"]
    assert str(task.start_cond) == "daily & file_exists('data.csv')"
    assert parse_condition(str(task.start_cond), app.session.custom_conditions) == task.start_cond
    with EngineRunner(app.session, poll_interval=1.0) as r:
        r.advance(5)
        assert r.starts("do_things") == []
        (tmp_path / "data.csv").write_text("a,b\n")
        r.advance(1)
        [run] = r.finished("do_things")
    assert run.outcome is Outcome.SUCCESS


def test_keyword_arguments_and_an_argumentless_operand(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # docs/tutorial/intermediate.rst, "Custom Conditions"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "myfile.csv").write_text("")
    app = Rocketry(state_dir=None)
    ns = run_example('''
        from rocketry.conds import daily

        @app.cond()
        def things_ready():
            ...
            return True or False

        @app.task(daily & things_ready)
        def do_things():
            ...
    ''', app=app)
    run_example('''
        from pathlib import Path
        from rocketry.conds import daily

        @app.cond()
        def file_exists(file):
            return Path(file).is_file()

        @app.task(daily & file_exists(file="myfile.csv"), name="do_file_things")
        def do_things():
            ...
    ''', app=app)
    assert str(app.session["do_things"].start_cond) == "daily & things_ready"
    assert str(app.session["do_file_things"].start_cond) == "daily & file_exists(file='myfile.csv')"
    assert ns["things_ready"]() is True  # called without arguments, it is the function
    with EngineRunner(app.session) as r:
        r.finished("do_things")
        r.finished("do_file_things")


def test_is_foo_with_arguments_is_a_condition_whose_truth_calls_it() -> None:
    app = App(state_dir=None)
    calls: list[int] = []

    @app.cond()
    def is_foo(x: int = 0) -> bool:
        calls.append(x)
        return x == 1

    cond = is_foo(x=1)
    assert str(cond) == "is_foo(x=1)"
    assert parse_condition("is_foo(x=1)", app.session.custom_conditions) == cond
    assert bool(cond) is True and bool(is_foo(x=2)) is False  # Rocketry's __bool__
    assert is_foo() is False  # no arguments: the function itself
    assert calls == [1, 2, 0]
    with pytest.raises(TypeError, match=r"is_foo\(y=1\): got an unexpected keyword"):
        is_foo(y=1)
    with pytest.raises(TypeError, match="condition arguments are strings and numbers, not list"):
        is_foo(x=[1])


def test_a_custom_condition_gets_rocketrys_arguments() -> None:
    # docs/tutorial/intermediate.rst, "Custom Conditions" (Rocketry's arguments)
    app = Rocketry(state_dir=None, execution="main")
    run_example('''
        from rocketry.args import Task
        from rocketry.conds import daily

        @app.cond()
        def is_right_task(this_task=Task()):
            return this_task.name.startswith("do_")

        @app.task(daily & is_right_task)
        def do_things():
            ...
    ''', app=app)

    @app.task(app.session["do_things"].start_cond)
    def not_this_one() -> None: ...

    with EngineRunner(app.session) as r:
        [run] = r.finished("do_things")
        r.advance(2)
        assert r.starts("not_this_one") == []
    assert run.outcome is Outcome.SUCCESS


def test_a_condition_made_without_an_app() -> None:
    # docs/cookbook/bigger_applications.rst (app/conditions.py), used as Rocketry does
    ns = run_example('''
        from rocketry.conds import condition

        @condition()
        def my_cond():
            return True or False
    ''')
    app = Rocketry(state_dir=None, execution="main")

    @app.task(conds.daily & ns["my_cond"])
    def do_things() -> None: ...

    assert str(app.session["do_things"].start_cond) == "daily & my_cond"
    assert (conds.daily & ns["my_cond"]).observe()
    with EngineRunner(app.session) as r:
        [run] = r.finished("do_things")
    assert run.outcome is Outcome.SUCCESS
