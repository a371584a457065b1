"""Bad input gets a clear error naming the task and the option (DESIGN §1.2-1.4, issue 2).

Definition errors are raised by ``app.task(...)`` (or by ``task.<option> = value``);
broken targets of lazily loaded tasks and missing session parameters fail their RUN.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fixtures import proc_tasks
from harness import EngineRunner

from tui_sched import App, TaskDefinitionError, TaskNotFound
from tui_sched.args import Arg, EnvArg, Return, Session, Task, TerminationFlag
from tui_sched.errors import DuplicateTaskError
from tui_sched.store.base import Outcome, RunRecord


def job() -> None:
    return None


def run_once(app: App, name: str, **config: Any) -> RunRecord:
    """Start an engine, force ``name``, return its finished run."""
    config.setdefault("termination_grace", 0.2)
    with EngineRunner(app.session, **config) as r:
        app.session.run_task(name)
        [run] = r.finished(name)
        r.sync()
        assert len(r.starts(name)) == 1
    return run


# == options ===========================================================================
def test_unknown_execution_mode() -> None:
    app = App(state_dir=None)
    with pytest.raises(TaskDefinitionError) as info:
        app.task("daily", func=job, execution="proces")
    err = info.value
    assert (err.task, err.option) == ("job", "execution")
    assert str(err) == ("task 'job', option 'execution': unknown execution 'proces'; "
                        "use one of main, async, thread, process, dask")
    assert "job" not in app.session


def test_unknown_execution_mode_in_decorator() -> None:
    app = App(state_dir=None)
    with pytest.raises(TaskDefinitionError, match=r"option 'execution'.*'proces'"):
        @app.task("daily", execution="proces")  # type: ignore[untyped-decorator]
        def decorated() -> None: ...
    assert len(app.session) == 0


@pytest.mark.parametrize(("timeout", "detail"), [
    (-1, "timeout must not be negative (got -1)"),
    ("-5 seconds", "not a time span"),
    (0, "timeout must be positive (omit it for no timeout)"),
    ("5 minuts", "unknown time unit 'minuts'"),
])
def test_bad_timeout(timeout: Any, detail: str) -> None:
    app = App(state_dir=None)
    with pytest.raises(TaskDefinitionError) as info:
        app.task("daily", func=job, name="fetch", timeout=timeout)
    assert (info.value.task, info.value.option) == ("fetch", "timeout")
    assert str(info.value).startswith("task 'fetch', option 'timeout': ")
    assert detail in str(info.value)


def test_timeout_as_span_string_is_accepted() -> None:
    app = App(state_dir=None)
    task = app.task("daily", func=job, timeout="5 minutes")
    assert task.timeout == 300


def test_unknown_option_suggests_the_near_one() -> None:
    app = App(state_dir=None)
    with pytest.raises(TaskDefinitionError) as info:
        app.task("daily", func=job, timout=5)
    assert (info.value.task, info.value.option) == ("job", "timout")
    assert "unknown option" in str(info.value)
    assert "did you mean 'timeout'?" in str(info.value)


def test_setting_a_bad_option_raises_and_keeps_the_old_value() -> None:
    app = App(state_dir=None)
    task = app.task("daily", func=job, priority=3)
    with pytest.raises(TaskDefinitionError) as info:
        task.priority = "high"
    assert (info.value.task, info.value.option) == ("job", "priority")
    assert task.priority == 3
    with pytest.raises(TaskDefinitionError, match="must not be negative"):
        task.timeout = -2
    assert task.timeout is None
    with pytest.raises(TaskDefinitionError, match="unknown execution 'proces'"):
        task.execution = "proces"
    assert task.execution == "thread"


def test_setting_a_flag_to_a_non_bool_raises() -> None:
    app = App(state_dir=None)
    task = app.task("daily", func=job)
    with pytest.raises(TaskDefinitionError) as info:
        task.disabled = "yes"  # type: ignore[assignment]
    assert (info.value.task, info.value.option) == ("job", "disabled")
    assert "must be True or False, not 'yes'" in str(info.value)
    assert task.disabled is False
    with pytest.raises(TaskDefinitionError, match="option 'force_run'"):
        task.force_run = 1  # type: ignore[assignment]
    assert task.force_run is False
    with pytest.raises(TaskDefinitionError, match="option 'disabled'"):
        app.task("daily", func=job, name="other", disabled="no")


def test_setting_an_unknown_attribute_lists_the_options() -> None:
    app = App(state_dir=None)
    task = app.task("daily", func=job)
    with pytest.raises(AttributeError, match=r"task 'job' has no option 'timout'.*timeout"):
        task.timout = 5


# == process tasks =====================================================================
@pytest.mark.parametrize(("func", "param", "marker"), [
    (proc_tasks.wants_session, "session", "Session()"),
    (proc_tasks.wants_task, "task", "Task()"),
    (proc_tasks.wants_flag, "flag", "TerminationFlag()"),
])
def test_in_process_marker_in_a_process_task_is_a_definition_error(
        func: Any, param: str, marker: str) -> None:
    app = App(state_dir=None)
    with pytest.raises(TaskDefinitionError) as info:
        app.task("daily", func=func, execution="process")
    err = info.value
    assert (err.task, err.option) == (func.__name__, "execution")
    assert f"parameter {param!r} asks for {marker}" in str(err)
    assert "execution='thread'" in str(err)
    assert func.__name__ not in app.session
    # The same function is fine where the session exists.
    app.task("daily", func=func, execution="thread")


@pytest.mark.parametrize("marker", [Session(), Task("other"), TerminationFlag()])
def test_in_process_marker_as_a_process_parameter_is_a_definition_error(marker: Any) -> None:
    app = App(state_dir=None)
    with pytest.raises(TaskDefinitionError, match=f"parameter 'x' asks for {type(marker).__name__}"):
        app.task("daily", func=proc_tasks.times_ten, execution="process",
                 parameters={"x": marker})


def test_changing_a_task_to_process_checks_its_markers() -> None:
    app = App(state_dir=None)
    task = app.task("daily", func=proc_tasks.wants_session, execution="thread")
    with pytest.raises(TaskDefinitionError, match=re.escape("'session' asks for Session()")):
        task.execution = "process"
    assert task.execution == "thread"


def test_nested_function_or_lambda_as_process_task() -> None:
    app = App(state_dir=None)

    def nested() -> None: ...

    for func in (nested, lambda: None):
        with pytest.raises(TaskDefinitionError) as info:
            app.task("daily", func=func, execution="process")
        assert info.value.option == "execution"
        assert "module-level function" in str(info.value)
        assert "lambdas and nested functions cannot be sent" in str(info.value)
    assert len(app.session) == 0


# == lazy targets: the task loads, its run fails =======================================
@pytest.mark.parametrize("mode", ["thread", "process"])
def test_missing_path_fails_the_run_naming_the_path(tmp_path: Path, mode: str) -> None:
    app = App(state_dir=None)
    missing = tmp_path / "nowhere" / "jobs.py"
    task = app.task(func_name="main", path=str(missing), execution=mode)
    assert task.name == f"{missing}:main"
    run = run_once(app, task.name)
    assert run.outcome is Outcome.FAIL
    assert run.error == f"FileNotFoundError: task file {missing} does not exist"


def test_relative_path_resolves_against_the_declaring_module() -> None:
    app = App(state_dir=None)
    task = app.task(func_name="give", path="fixtures/proc_tasks.py")
    assert task.name == "fixtures/proc_tasks.py:give"  # named as written
    assert task.target.path == str(Path(__file__).parent / "fixtures" / "proc_tasks.py")
    run = run_once(app, task.name)
    assert run.outcome is Outcome.SUCCESS and run.return_summary == "21"


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_missing_function_in_an_existing_file_fails_the_run(tmp_path: Path, mode: str) -> None:
    module = tmp_path / "jobs.py"
    module.write_text("def main():\n    return 1\n")
    app = App(state_dir=None)
    task = app.task(func_name="mian", path=str(module), execution=mode)
    run = run_once(app, task.name)
    assert run.outcome is Outcome.FAIL
    assert run.error == f"AttributeError: {module} has no function 'mian'"


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_lazy_target_that_does_not_import_fails_the_run(tmp_path: Path, mode: str) -> None:
    module = tmp_path / "broken.py"
    module.write_text("import nonexistent_module_xyz\n\ndef main():\n    return 1\n")
    app = App(state_dir=None)
    task = app.task(func_name="main", path=str(module), execution=mode)
    run = run_once(app, task.name)
    assert run.outcome is Outcome.FAIL
    assert run.error is not None and "nonexistent_module_xyz" in run.error
    assert run.traceback is not None and str(module) in run.traceback


def test_lazy_process_task_markers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lazy process task's signature is only read in the worker: environment values
    resolve there; a ``Return`` needs ``parameters=`` and says so."""
    module = tmp_path / "lazy_markers.py"
    module.write_text(
        "from tui_sched.args import EnvArg, Return\n"
        "def env(v=EnvArg('TUI_SCHED_TEST_UNSET_VAR', default='fallback')):\n"
        "    return v\n"
        "def ret(x=Return('source')):\n"
        "    return x * 2\n"
    )
    app = App(state_dir=None)
    env = app.task(func_name="env", path=str(module), execution="process")
    ret = app.task(func_name="ret", path=str(module), execution="process")
    via_params = app.task(func_name="ret", path=str(module), execution="process",
                          name="ret_via_parameters", parameters={"x": Return("source")})
    app.task(func=proc_tasks.give, execution="thread", name="source", force_run=True)
    with EngineRunner(app.session, termination_grace=0.2) as r:
        r.finished("source")
        for t in (env, ret, via_params):
            t.force_run = True
        [env_run] = r.finished(env.name)
        [ret_run] = r.finished(ret.name)
        [params_run] = r.finished(via_params.name)
    assert env_run.outcome is Outcome.SUCCESS and env_run.return_summary == "'fallback'"
    assert ret_run.outcome is Outcome.FAIL
    assert ret_run.error is not None
    assert "parameter 'x' asks for Return(name='source'" in ret_run.error
    assert "parameters={'x': Return(" in ret_run.error
    assert params_run.outcome is Outcome.SUCCESS and params_run.return_summary == "42"


# == names =============================================================================
def test_name_clash_is_an_error_suggesting_name() -> None:
    app = App(state_dir=None)
    first = app.task("daily", func=job, name="x")
    with pytest.raises(DuplicateTaskError) as info:
        app.task("hourly", func=proc_tasks.give, name="x")
    assert isinstance(info.value, TaskDefinitionError)
    assert info.value.task == "x"
    assert "already exists" in str(info.value) and "name='...'" in str(info.value)
    assert app.session["x"] is first


def test_function_name_clash_is_an_error() -> None:
    app = App(state_dir=None)
    app.task("daily", func=proc_tasks.give)
    with pytest.raises(DuplicateTaskError, match=r"task 'give'.*name="):
        app.task("daily", func=proc_tasks.give)
    app.task("daily", func=proc_tasks.give, name="give_again")  # the suggested fix works


def test_unknown_task_suggests_near_names() -> None:
    app = App(state_dir=None)
    app.task("daily", func=job, name="fetch_data")
    app.task("daily", func=job, name="send_report")
    with pytest.raises(TaskNotFound) as info:
        app.session["fetch_dat"]
    assert isinstance(info.value, KeyError)
    assert info.value.suggestions == ["fetch_data"]
    assert str(info.value) == "no task named 'fetch_dat'. Did you mean 'fetch_data'?"
    with pytest.raises(KeyError):
        app.session["zzz"]
    assert app.session.get("zzz") is None


# == conditions ========================================================================
def test_condition_syntax_error_shows_a_caret() -> None:
    app = App(state_dir=None)
    with pytest.raises(TaskDefinitionError) as info:
        app.task("daily &", func=job)
    err = info.value
    assert (err.task, err.option) == ("job", "start_cond")
    lines = str(err).splitlines()
    assert "    daily &" in lines
    caret = lines[lines.index("    daily &") + 1]
    assert caret == "    " + " " * len("daily &") + "^"
    assert "job" not in app.session


def test_end_cond_syntax_error_names_end_cond() -> None:
    app = App(state_dir=None)
    with pytest.raises(TaskDefinitionError) as info:
        app.task("daily", func=job, end_cond="after task")
    assert info.value.option == "end_cond"
    assert "^" in str(info.value)


# == arguments at run time =============================================================
@pytest.mark.parametrize("mode", ["main", "thread", "process"])
def test_missing_session_parameter_fails_the_run_saying_how_to_set_it(mode: str) -> None:
    app = App(state_dir=None)
    app.task(func=proc_tasks.times_ten, execution=mode, name="needs_arg",
             parameters={"x": Arg("batch_size")})
    run = run_once(app, "needs_arg")
    assert run.outcome is Outcome.FAIL
    assert run.error is not None
    assert "session parameter 'batch_size' is not set" in run.error
    assert "app.params(batch_size=...)" in run.error
    # Once set, the same task runs.
    app.params(batch_size=4)
    again = run_once(app, "needs_arg")
    assert again.outcome is Outcome.SUCCESS and again.return_summary == "40"


def test_arg_default_and_env_arg_default() -> None:
    app = App(state_dir=None)
    app.task(func=proc_tasks.times_ten, execution="thread", name="with_default",
             parameters={"x": Arg("missing", default=2)})
    app.task(func=proc_tasks.give, execution="process", name="env",
             parameters={"value": EnvArg("TUI_SCHED_TEST_UNSET_VAR", default="d")})
    with EngineRunner(app.session, termination_grace=0.2) as r:
        app.session.run_task("with_default")
        app.session.run_task("env")
        [a] = r.finished("with_default")
        [b] = r.finished("env")
    assert a.return_summary == "20"
    assert b.return_summary == "'d'"
