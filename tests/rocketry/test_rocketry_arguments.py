"""Issue 20 item 5: ``@app.param``, ``SimpleArg``, ``CliArg``, ``argument`` and ``>>``
argument fallbacks, from Rocketry's documented examples with only the import changed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from harness import EngineRunner
from rocketry_docs import port, run_example

from tui_sched import Rocketry
from tui_sched.args import ArgumentMissing, CliArg, SimpleArg
from tui_sched.engine.events import RunFinished
from tui_sched.store.base import Outcome, Trigger


def _run(app: Rocketry, *tasks: str) -> dict[str, Any]:
    """Force each task once; their forced runs by name (a task whose condition holds at
    start also has a scheduled run: not the one asked for)."""
    runs = {}
    with EngineRunner(app.session) as r:
        for name in tasks:
            app.session[name].force_run = True
            [event] = r.wait_for(lambda e, name=name: isinstance(e, RunFinished)
                                 and e.run.task == name and e.run.trigger is Trigger.FORCED)
            assert isinstance(event, RunFinished)
            runs[name] = event.run
    return runs


def test_a_chain_of_arguments_takes_the_first_that_has_a_value(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # docs/handbooks/arguments.rst, "Pipelining" (its import line lacks SimpleArg,
    # which it uses: that is the one change besides the package name)
    monkeypatch.delenv("ROCKETRY_ENV", raising=False)
    monkeypatch.setattr(sys, "argv", ["app.py"])
    app = Rocketry(state_dir=None, execution="main")
    ns = run_example('''
        from rocketry.args import Arg, EnvArg, CliArg, SimpleArg

        env_arg = EnvArg('ROCKETRY_ENV') >> CliArg('--env') >> Arg('env') >> SimpleArg('test')

        @app.task()
        def do_things(arg=env_arg):
            ...
    ''', app=app)

    def which(arg: str = ns["env_arg"]) -> str:
        return arg

    app.task(func=which, execution="main")
    assert _run(app, "which", "do_things")["which"].return_summary == "'test'"
    app.params(env="from session")
    assert _run(app, "which")["which"].return_summary == "'from session'"
    monkeypatch.setattr(sys, "argv", ["app.py", "--env", "from cli"])
    assert _run(app, "which")["which"].return_summary == "'from cli'"
    monkeypatch.setenv("ROCKETRY_ENV", "from env")
    assert _run(app, "which")["which"].return_summary == "'from env'"


def test_simple_arg_and_session_parameters() -> None:
    # docs/handbooks/arguments.rst "SimpleArg", "Arg"; parameterization.rst "Session Parameters"
    app = Rocketry(state_dir=None, execution="main")
    run_example('''
        from rocketry.args import SimpleArg

        @app.task()
        def do_things(arg=SimpleArg('a value')):
            assert arg == 'a value'
    ''', app=app)
    run_example('''
        from rocketry.args import Arg

        @app.task()
        def do_arg(arg=Arg('my_session_param')):
            assert arg == 'a value'

        app.params(my_session_param="a value")
    ''', app=app)
    run_example('''
        from rocketry.args import Arg, SimpleArg

        app.params(arg=SimpleArg('a value'))

        @app.task()
        def do_session_arg(arg=Arg('arg')):
            assert arg == 'a value'
    ''', app=app)
    runs = _run(app, "do_things", "do_arg", "do_session_arg")
    assert {name: run.outcome for name, run in runs.items()} == dict.fromkeys(runs, Outcome.SUCCESS)


def test_app_param_is_a_session_parameter_computed_when_read() -> None:
    # docs/handbooks/parameterization.rst ("Alternatively") and docs/code/demos/advanced.py
    app = Rocketry(state_dir=None, execution="main")
    ns = run_example('''
        from rocketry.args import Arg

        @app.param("arg")
        def get_arg():
            return 'a value'

        @app.task()
        def do_things(arg=Arg('arg')):
            assert arg == 'a value'
            return arg
    ''', app=app)
    assert ns["get_arg"]() == "a value"  # still the function
    [run] = _run(app, "do_things").values()
    assert run.outcome is Outcome.SUCCESS and run.return_summary == "'a value'"


def test_the_advanced_demo_loads_and_runs() -> None:
    # docs/code/demos/advanced.py, whole (its do_pipeline waits for a task 'do_things'
    # that it never defines: tui-sched reports that reference)
    ns = run_example(ADVANCED_DEMO)
    app = ns["app"]
    assert [p.referenced for p in app.session.check_references()] == ["do_things"]
    runs = _run(app, "do_pipeline", "do_custom", "do_complex")
    assert {name: run.outcome for name, run in runs.items()} == dict.fromkeys(runs, Outcome.SUCCESS)


ADVANCED_DEMO = '''
from rocketry import Rocketry
from rocketry.args import Return, Arg

app = Rocketry()

# Custom Condition
# ----------------

@app.cond('is foo')
def is_foo():
    # This is a custom condition
    ...
    return True

# Parameters
# ----------

app.params(my_arg='Hello')

@app.param('item')
def get_item():
    # This is a custom condition
    ...
    return 'world'

# Tasks
# -----

@app.task('daily', execution="process")
def do_on_process():
    "This task runs once a day and runs on separate process"
    ...
    return ...

@app.task("after task 'do_things'")
def do_pipeline(arg1=Return('do_on_process'),
                arg2=Arg('item'),
                arg3=Arg('my_arg')):
    """This task runs when 'do_on_process' has succeeded.
    Argument 'arg1' gets the return value of 'do_on_process'
    Argument 'arg2' gets the return value of function 'get_item'
    Argument 'arg3' is simply the value of a session parameter 'my_arg'"""
    ...

@app.task('daily & is foo', execution="thread")
def do_custom():
    """This task runs once a day and when is_foo returns True
    This task runs on separate thread"""
    ...


@app.task('(true & true) | (false & True & ~True)')
def do_complex():
    """Notice the logical expression in the task start condition"""


if __name__ == "__main__":
    app.run()
'''


def test_argument_decorator_makes_a_function_argument() -> None:
    # docs/cookbook/bigger_applications.rst (app/arguments.py)
    app = Rocketry(state_dir=None, execution="main")
    ns = run_example('''
        from rocketry.args import argument

        @argument()
        def my_value():
            return "Hello"
    ''')

    @app.task()
    def do_things(arg: str = ns["my_value"]) -> str:
        return arg

    assert _run(app, "do_things")["do_things"].return_summary == "'Hello'"


def test_a_missing_cli_argument_fails_the_run_saying_what_to_do(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["app.py"])
    app = Rocketry(state_dir=None, execution="main")

    @app.task()
    def needs(arg: str = CliArg("--myparam")) -> None: ...

    @app.task()
    def chained(arg: str = CliArg("--a") >> CliArg("--b")) -> None: ...

    runs = _run(app, "needs", "chained")
    assert runs["needs"].outcome is Outcome.FAIL
    assert "--myparam is not on the command line" in (runs["needs"].error or "")
    assert "end the chain with SimpleArg(default)" in (runs["chained"].error or "")
    assert CliArg("--x", default="d").resolve([]) == "d"
    assert CliArg("--x").resolve(["--x=1"]) == "1"
    with pytest.raises(ArgumentMissing):
        CliArg("--x").resolve(["--x"])
    with pytest.raises(TypeError, match=r"wrap a plain value as SimpleArg\('plain'\)"):
        SimpleArg(1) >> "plain"  # type: ignore[operator]


@pytest.mark.slow
def test_cli_arg_reads_the_command_line_of_the_program(tmp_path: Path) -> None:
    # docs/handbooks/arguments.rst, "CliArg": python myscript.py --myparam "a value"
    script = port('''
        from rocketry.args import CliArg

        @app.task()
        def do_things(arg=CliArg("--myparam")):
            assert arg == 'a value'
    ''')
    (tmp_path / "myscript.py").write_text(textwrap.dedent('''
        from tui_sched import Rocketry
        from tui_sched.args import Session
        app = Rocketry(execution="main")
    ''') + script + textwrap.dedent('''
        @app.task("after task 'do_things' finished", execution="main")
        def stop(session=Session()):
            session.shutdown()

        if __name__ == "__main__":
            app.session["do_things"].force_run = True
            app.run()
            print([r.action for r in app.session["do_things"].logger.filter_by()])
    '''))
    out = subprocess.run([sys.executable, "myscript.py", "--myparam", "a value"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "['run', 'success']"
