"""Importing task code never takes the scheduler down, and never runs code the permission
check refused (issue 18, items 1 and 2).

Real processes throughout: the ``tui-sched`` command, its process workers, the vetting
child that imports each module first.
"""

from __future__ import annotations

import os
import pwd
import signal
import textwrap
from pathlib import Path

import pytest
from cli_process import Headless, cli
from harness import EngineRunner

from tui_sched import App
from tui_sched.reload import load_folder
from tui_sched.store.base import Outcome

GOOD = textwrap.dedent('''
    from tui_sched import App
    app = App()

    @app.task("every 1 second", execution="main")
    def heartbeat():
        print("heartbeat ran")
''')

EXITS_AT_IMPORT = {
    "os._exit(0)": "import os\nos._exit(0)\n",
    "os._exit(3)": "import os\nos._exit(3)\n",
    "KeyboardInterrupt": "raise KeyboardInterrupt\n",
    "sys.exit()": "import sys\nsys.exit()\n",
    "segfault": "import ctypes\nctypes.string_at(0)\n",
}


def write(path: Path, text: str) -> Path:
    """A file only its owner may write (as the loader requires of task code)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    path.write_text(text)
    path.chmod(0o644)
    return path


def save_atomically(path: Path, text: str) -> None:
    """Save as editors do: a temporary file renamed over the module."""
    tmp = write(path.with_name(f".{path.name}.tmp"), text)
    os.replace(tmp, path)


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "tasks"
    folder.mkdir(mode=0o755)
    for name, text in files.items():
        write(folder / f"{name}.py", text)
    return folder


def _expect_new(proc: Headless, since: int, text: str) -> int:
    """Wait for a line with ``text`` from the ``since``-th line on; its index."""
    proc.expect(text, since=since)
    return next(i for i in range(since, len(proc.lines)) if text in proc.lines[i])


# == item 1: a module that exits, interrupts or crashes at import ============================
@pytest.mark.parametrize("body", list(EXITS_AT_IMPORT.values()), ids=list(EXITS_AT_IMPORT))
def test_check_reports_a_module_that_ends_the_interpreter_at_import(
        tmp_path: Path, body: str) -> None:
    _folder(tmp_path, good=GOOD, bad=body)
    out = cli("check", "tasks", cwd=tmp_path)
    assert out.returncode == 1, out
    [error] = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert "bad.py" in error and "at import" in error and "not loaded" in error
    assert "1 module(s), 1 task(s), 1 error(s)" in out.stdout
    assert "heartbeat: every 1 second" in out.stdout


@pytest.mark.parametrize("name", ["KeyboardInterrupt", "sys.exit()"])
def test_the_in_process_import_reports_an_exit_too(tmp_path: Path, name: str) -> None:
    # Behind the vetting process, the scheduler's own import is guarded as well (a
    # module may behave differently the second time).
    folder = _folder(tmp_path, good=GOOD, bad=EXITS_AT_IMPORT[name])
    report = load_folder(folder, vet_first=False)
    [error] = report.errors
    assert Path(error.path).name == "bad.py" and "at import" in error.message
    assert [t.name for t in report.session.tasks] == ["heartbeat"]


@pytest.mark.slow
@pytest.mark.parametrize("body", [EXITS_AT_IMPORT["os._exit(0)"],
                                  EXITS_AT_IMPORT["KeyboardInterrupt"]],
                         ids=["os._exit(0)", "KeyboardInterrupt"])
def test_run_reports_the_module_and_runs_the_rest(tmp_path: Path, body: str) -> None:
    _folder(tmp_path, good=GOOD, bad=body)
    proc = Headless("tasks", cwd=tmp_path)
    try:
        assert "at import" in proc.expect("module tasks/bad.py")
        proc.expect("heartbeat ran")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()


@pytest.mark.slow
@pytest.mark.parametrize("body", [EXITS_AT_IMPORT["os._exit(0)"], EXITS_AT_IMPORT["os._exit(3)"],
                                  EXITS_AT_IMPORT["KeyboardInterrupt"]],
                         ids=["os._exit(0)", "os._exit(3)", "KeyboardInterrupt"])
def test_saving_a_module_that_ends_the_interpreter_keeps_its_last_good_version(
        tmp_path: Path, body: str) -> None:
    folder = _folder(tmp_path, good=GOOD)
    flip = write(folder / "flip.py", GOOD.replace("heartbeat", "flip"))
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("flip ran")
        save_atomically(flip, body + GOOD.replace("heartbeat", "flip"))
        assert "at import" in proc.expect("module tasks/flip.py")
        seen = len(proc.lines)
        # Both the other module and the last good version of this one keep running.
        _expect_new(proc, seen, "heartbeat ran")
        _expect_new(proc, seen, "flip ran")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()


# == item 2: every import of task code goes through the permission check =====================
def _nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


def _make_unsafe(path: Path, how: str) -> str:
    """Make ``path`` unsafe as task code; the words of the message that says so."""
    if how == "world-writable":
        path.chmod(0o666)
        return f"chmod go-w {path}"
    os.chown(path, _nobody(), -1)
    return f"{path} is owned by uid {_nobody()}"


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


@needs_root
@pytest.mark.parametrize("how", ["world-writable", "owned by nobody"])
def test_a_helper_that_fails_the_check_fails_the_module_that_imports_it(
        tmp_path: Path, how: str) -> None:
    folder = _folder(tmp_path, good=GOOD, user="import helper\n" + GOOD.replace(
        "heartbeat", "user"), helper="VALUE = 1\n")
    fix = _make_unsafe(folder / "helper.py", how)
    out = cli("check", "tasks", cwd=tmp_path)
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert any("user.py" in line and fix in line for line in errors), errors
    assert "  user:" not in out.stdout and "heartbeat: every 1 second" in out.stdout


@needs_root
@pytest.mark.parametrize("execution", ["thread", "process"])
@pytest.mark.parametrize("how", ["world-writable", "owned by nobody"])
def test_a_lazy_path_target_that_fails_the_check_does_not_run(
        tmp_path: Path, execution: str, how: str) -> None:
    marker = tmp_path / "it-ran"
    lazy = write(tmp_path / "lib" / "report.py",
                 f"def main():\n    open({str(marker)!r}, 'w').close()\n")
    fix = _make_unsafe(lazy, how)
    app = App(state_dir=None)
    app.task(func_name="main", path=str(lazy), name="report", execution=execution,
             force_run=True)
    with EngineRunner(app.session, process_workers=1) as r:
        [run] = r.finished("report", timeout=20)
    assert run.outcome is Outcome.FAIL
    assert run.error is not None and fix in run.error
    assert not marker.exists()


@needs_root
def test_a_process_worker_checks_the_helpers_a_task_imports_when_it_runs(
        tmp_path: Path) -> None:
    marker = tmp_path / "it-ran"
    folder = _folder(tmp_path, jobs=textwrap.dedent('''
        from tui_sched import App
        app = App()

        @app.task(execution="process")
        def uses_helper():
            import late_helper
            return late_helper.VALUE
    '''), late_helper=f"open({str(marker)!r}, 'w').close()\nVALUE = 1\n")
    # The scheduler never imports late_helper; only the worker does, when the task runs.
    fix = _make_unsafe(folder / "late_helper.py", "owned by nobody")
    report = load_folder(folder)
    assert [Path(e.path).name for e in report.errors] == ["late_helper.py"]
    with EngineRunner(report.session, process_workers=1) as r:
        report.session["uses_helper"].force_run = True
        [run] = r.finished("uses_helper", timeout=20)
    assert run.outcome is Outcome.FAIL
    assert run.error is not None and fix in run.error
    assert not marker.exists()


@pytest.mark.slow
def test_a_module_made_writable_and_rewritten_never_reaches_a_process_worker(
        tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    jobs = write(folder / "jobs.py", textwrap.dedent('''
        from tui_sched import App
        app = App()

        @app.task("every 1 second", execution="process")
        def job():
            print("job ran v1")
    '''))
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("job ran v1")
        # The file is made writable by everyone, and rewritten in place (as any local
        # user now could: pytest's folders are closed to other users, so root writes).
        jobs.chmod(0o666)
        jobs.write_text(jobs.read_text().replace("v1", "v2"))
        assert "writable by other users" in proc.expect("module tasks/jobs.py")
        later = _expect_new(proc, len(proc.lines), "job ran v1")
        _expect_new(proc, later + 1, "job ran v1")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
    assert not [line for line in proc.lines if "job ran v2" in line]
