"""Issue 20 item 3 (and ``shut_cond``, item 8): Rocketry's session options under
Rocketry's names, from its documented examples with only the import changed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from harness import EngineRunner
from rocketry_docs import port, run_example

from tui_sched import App, Rocketry
from tui_sched.errors import ConfigError, TaskDefinitionError


def test_the_config_handbook_example_loads_with_rocketrys_keys() -> None:
    # docs/handbooks/config.rst
    ns = run_example('''
        from rocketry import Rocketry

        app = Rocketry(config={
            'task_execution': 'process',
            'task_pre_exist': 'raise',
            'force_status_from_logs': True,

            'silence_task_prerun': False,
            'silence_task_logging': False,
            'silence_cond_check': False,

            'max_process_count': 5,
            'restarting': 'replace',
            'cycle_sleep': 0.1
        })
    ''')
    app = ns["app"]
    assert app.config.default_execution == "process"
    assert app.config.process_workers == 5


def test_execution_async_is_the_default_execution() -> None:
    # docs/tutorial/basic.rst
    ns = run_example('''
        from rocketry import Rocketry

        app = Rocketry(execution="async")

        @app.task("daily")
        def do_main():
            ...
    ''')
    app = ns["app"]
    assert app.config.default_execution == "async"
    with EngineRunner(app.session, default_execution=app.config.default_execution) as r:
        assert ns["app"].session["do_main"].execution == "async"
        [run] = r.finished("do_main")
    assert run.outcome == "success"


def test_silencing_options_are_accepted() -> None:
    # docs/cookbook/robust_applications.rst
    run_example('''
        from rocketry import Rocketry
        from rocketry.log import LogRecord

        app = Rocketry(config={
            'silence_task_prerun': True,
            'silence_task_logging': True,
            'silence_cond_check': True
        })
    ''')


def test_a_session_timeout_applies_to_tasks_without_their_own() -> None:
    # docs/handbooks/task/termination.rst
    ns = run_example('''
        from rocketry import Rocketry

        app = Rocketry(config={"timeout": 0.1})

        @app.task(timeout="1 hour", execution="process")
        def do_things():
            ...
    ''')
    app = ns["app"]

    @app.task()
    def other() -> None: ...

    assert app.session["do_things"].timeout == 3600
    assert app.session["other"].timeout == 0.1


def test_a_session_multilaunch_applies_to_tasks_without_their_own() -> None:
    # docs/handbooks/task/execution.rst
    ns = run_example('''
        app = Rocketry(config={'multilaunch': True})

        @app.task(multilaunch=True)
        def do_things():
            ...
    ''', Rocketry=Rocketry)
    app = ns["app"]

    @app.task(multilaunch=False)
    def single() -> None: ...

    @app.task()
    def default() -> None: ...

    assert app.session["do_things"].multilaunch
    assert not app.session["single"].multilaunch
    assert app.session["default"].multilaunch


@pytest.mark.parametrize(("options", "says"), [
    ({"multilanch": True}, "unknown session option 'multilanch'; did you mean 'multilaunch'?"),
    ({"execution": "asnyc"}, "session option execution: Input should be 'main', 'async'"),
    ({"task_execution": "proces"}, "session option task_execution: Input should be"),
    ({"instant_shutdown": True}, "session.shutdown(force=True)"),
    ({"restarting": "relaunch"}, "tui-sched restarts in place"),
    ({"task_pre_exist": "rename"}, "give the task another name="),
    ({"logger_repo": object()}, "read with session.get_repo()"),
    ({"time_func": lambda: 0.0}, "FakeClock"),
    ({"func_run_id": lambda task, params: "x"}, "identified by their id"),
])
def test_options_tui_sched_does_not_support_are_refused_saying_what_to_do(
        options: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError) as info:
        Rocketry(**options)
    assert says in str(info.value)


def test_a_timezone_object_is_the_zone_name() -> None:
    from datetime import UTC
    from zoneinfo import ZoneInfo

    assert Rocketry(timezone=ZoneInfo("Europe/Berlin")).config.timezone == "Europe/Berlin"
    assert Rocketry(config={"timezone": UTC}).config.timezone == "UTC"


def test_the_plain_app_keeps_its_strict_options() -> None:
    with pytest.raises(TaskDefinitionError, match="did you mean 'multilaunch'"):
        App(state_dir=None).task("daily", multilanch=True, func=print)  # docs' typo


def test_shut_cond_stops_the_scheduler_when_it_holds() -> None:
    # docs/cookbook/testing.rst, "Scheduler"
    ns = run_example('''
        from rocketry import Rocketry
        from rocketry.conds import scheduler_running

        app = Rocketry(shut_cond=scheduler_running(more_than="5 minutes"))

        @app.task()
        def do_things():
            ...
    ''')
    r = EngineRunner(ns["app"].session)
    with r:
        r.advance(299)
        assert not r.engine.done.is_set()
        r.fake.advance(2)
        assert r.engine.done.wait(10), "shut_cond did not stop the scheduler"
    assert r.restart is False


@pytest.mark.slow
def test_shut_cond_ends_app_run_in_a_real_process(tmp_path: Path) -> None:
    # docs/code/conds/api/scheduler_cycles.py, run as a script
    example = port('''
        from rocketry import Rocketry
        from rocketry.conds import scheduler_cycles

        app = Rocketry(config={
            "shut_cond": scheduler_cycles(more_than=1)
        })
    ''') + textwrap.dedent('''
        @app.task("every 10 seconds", execution="main")
        def do_things():
            print("did things")

        if __name__ == "__main__":
            app.run()
    ''')
    (tmp_path / "app.py").write_text(example)
    out = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "did things" in out.stdout
    assert (tmp_path / ".tui-sched" / "history.sqlite3").is_file()


def test_session_config_reads_the_options_by_rocketrys_names() -> None:
    # docs/handbooks/config.rst: "This can be later accessed via app.session.config"
    app = Rocketry(config={"task_execution": "process", "max_process_count": 5,
                           "cycle_sleep": 0.1, "timeout": "1 hour"}, state_dir=None)
    config = app.session.config
    assert config.task_execution == "process" and config.execution == "process"
    assert config.max_process_count == 5
    assert config.timeout == 3600
    assert config.cycle_sleep == 0.1
    assert config.shut_cond is None
    assert config.task_logger_basename == "rocketry.task"

    @app.task()
    def do_things() -> None: ...

    assert app.session["do_things"].execution == "process"
