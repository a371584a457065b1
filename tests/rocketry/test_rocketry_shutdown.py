"""Issue 20 item 8: ``session.shut_down()``, ``TaskTerminationException`` and
``shut_cond`` set on the session, from Rocketry's documented examples with only the
import changed (``shut_cond`` given to ``Rocketry(...)``: test_rocketry_config.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from harness import EngineRunner
from rocketry_docs import port, run_example

from tui_sched import Rocketry
from tui_sched.store.base import Outcome


def test_a_task_shuts_the_scheduler_down() -> None:
    # docs/cookbook/controlling_runtime.rst, "Manipulating the Session"
    app = Rocketry(state_dir=None)
    run_example('''
        from rocketry.args import Session

        @app.task()
        def shut_down(session=Session()):
            session.shut_down()
    ''', app=app)
    r = EngineRunner(app.session)
    with r:
        app.session["shut_down"].force_run = True
        assert r.engine.done.wait(10), "session.shut_down() did not stop the scheduler"
    assert r.restart is False


def test_a_thread_task_that_sees_its_termination_flag_is_recorded_terminated() -> None:
    # docs/handbooks/task/execution.rst ("... # Do something" made a short wait)
    app = Rocketry(state_dir=None)
    ns = run_example('''
        from rocketry.args import TerminationFlag
        from rocketry.exc import TaskTerminationException

        @app.task(execution="thread")
        def do_thread(flag=TerminationFlag()):
            while True:
                flag.wait(0.01) # Do something
                if flag.is_set():
                    raise TaskTerminationException()
    ''', app=app)
    with EngineRunner(app.session) as r:
        app.session["do_thread"].force_run = True
        r.wait_for(lambda e: getattr(getattr(e, "run", None), "task", None) == "do_thread")
        r.engine.terminate("do_thread", "stop it")
        [run] = r.finished("do_thread")
    assert run.outcome is Outcome.TERMINATE
    assert ns["TaskTerminationException"].__module__ == "tui_sched.executors.base"


@pytest.mark.parametrize("execution", ["main", "thread", "process"])
def test_raising_task_termination_exception_records_terminate(execution: str) -> None:
    # A whole module: a process worker imports it.
    ns = run_example(f'''
        from rocketry import Rocketry
        from rocketry.exc import TaskTerminationException

        app = Rocketry(state_dir=None)

        @app.task("daily", execution="{execution}")
        def gives_up():
            raise TaskTerminationException("Task was terminated")
    ''')
    with EngineRunner(ns["app"].session) as r:
        [run] = r.finished("gives_up", timeout=30)
    assert run.outcome is Outcome.TERMINATE
    assert run.error == "Task was terminated"


def test_shut_cond_set_on_the_session_config() -> None:
    app = Rocketry(state_dir=None)
    ns = run_example('''
        from rocketry.conds import scheduler_cycles

        app.session.config.shut_cond = scheduler_cycles(more_than=2)
    ''', app=app)
    assert str(app.session.config.shut_cond) == str(ns["scheduler_cycles"](more_than=2))
    r = EngineRunner(app.session)
    with r:
        assert r.engine.done.wait(10)


@pytest.mark.slow
def test_the_intermediate_demo_runs_and_shuts_itself_down(tmp_path: Path) -> None:
    # docs/code/demos/intermediate.py, run as a program
    (tmp_path / "intermediate.py").write_text(port(INTERMEDIATE_DEMO))
    out = subprocess.run([sys.executable, "intermediate.py"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    check = subprocess.run([sys.executable, "-c", (
        "from tui_sched.store.sqlite import SqliteRunStore\n"
        "s = SqliteRunStore.open_readonly('.tui-sched/history.sqlite3')\n"
        "print(sorted({(r.task, str(r.outcome)) for r in s.history(limit=100)}))")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    ran = check.stdout
    # (Which other daily tasks got to start before the shutdown is a race of the demo.)
    assert "('do_on_session', 'success')" in ran, ran + check.stderr


INTERMEDIATE_DEMO = '''
from rocketry import Rocketry
from rocketry.args import Return, Session, Arg, FuncArg
from rocketry.conds import daily, time_of_week, after_success

app = Rocketry()

@app.cond()
def is_foo():
    "This is a custom condition"
    ...
    return True

@app.task(daily & is_foo)
def do_daily():
    "This task runs once a day when foo is true"
    ...
    return ...

@app.task((daily.at("10:00") | daily.at("19:00")) & time_of_week.between("Mon", "Fri"),
          execution="process")
def do_complex():
    "This task runs on complex interval and on separate process"
    ...
    return ...


@app.task(after_success(do_daily))
def do_after_another(arg=Return(do_daily)):
    """This task runs after 'do_daily' and it has its the
    return argument as an input"""
    ...

@app.task(daily)
def do_with_params(arg1=FuncArg(lambda: ...), arg2=Arg("myparam")):
    """This task runs with variety of arguments"""
    ...

@app.task(daily, execution="thread")
def do_on_session(session=Session()):
    "This task modifies the scheduling session"
    # Setting a task to run
    for task in session.tasks:
        if task.name == "do_after_another":
            task.run(arg="...")

    # Call for shut down
    session.shut_down()

if __name__ == "__main__":
    app.params(myparam="...")
    app.run()
'''
