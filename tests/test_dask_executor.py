"""``execution="dask"`` on a real LocalCluster (issue 22).

One cluster per module (2 worker processes, 1 thread each), started here as a user's
existing cluster would be; the engine connects to its address. Its scheduler gives up on
a run at the first worker death, as the README tells users to configure theirs.
"""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import EngineRunner

from tui_sched import App
from tui_sched.engine.events import EngineError, LogLine, RunStarted
from tui_sched.errors import TaskDefinitionError
from tui_sched.store.base import Outcome
from tui_sched.tasks.modules import load_file

distributed = pytest.importorskip("distributed")

# A real cluster on a loaded 2-core machine: a step may take up to WAIT, so a test more
# than the suite's 60 s (an isolated call's child took over 60 s to start with three test
# suites and a busy loop on the machine).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

MODULE = textwrap.dedent('''
    import os
    import sys
    import time
    from pathlib import Path

    def double(x):
        print("doubling", x)
        print("to stderr", file=sys.stderr)
        return {"value": x * 2, "pid": os.getpid()}

    def broken():
        raise ValueError("the input was bad")

    def hold(pid_file, release):
        Path(pid_file).write_text(str(os.getpid()))
        while not Path(release).exists():  # until the test lets it go
            time.sleep(0.01)
        return "released"
''')

#: Generous: a loaded 2-core machine starts and runs worker processes slowly.
WAIT = 60.0


@pytest.fixture(scope="module")
def cluster_address() -> Iterator[str]:
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


@pytest.fixture
def tasks(tmp_path: Path) -> object:
    folder = tmp_path / "mods"
    folder.mkdir()
    module_file = folder / "dask_tasks.py"
    module_file.write_text(MODULE)
    return load_file(module_file)


def _runner(app: App, address: str, **config: Any) -> EngineRunner:
    config.setdefault("shutdown_timeout", 20.0)
    return EngineRunner(app.session, dask={"address": address, "connect_timeout": 5}, **config)


def _wait_for_file(path: Path, timeout: float = WAIT) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)  # polling a file another process writes (no event to wait on)
    return path.read_text()


def test_a_dask_run_records_its_return_value_and_its_output(
        cluster_address: str, tasks: object) -> None:
    app = App(state_dir=None)
    app.task(func=tasks.double, execution="dask", name="double",  # type: ignore[attr-defined]
             parameters={"x": 21}, force_run=True)
    with _runner(app, cluster_address) as r:
        [run] = r.finished("double", timeout=WAIT)
        lines = [e.text for e in r.events if isinstance(e, LogLine) and e.task == "double"]
    assert run.outcome is Outcome.SUCCESS, run.error
    assert "'value': 42" in (run.return_summary or "")
    assert f"'pid': {os.getpid()}" not in (run.return_summary or "")  # ran on a worker
    assert run.output_tail is not None
    assert "doubling 21" in run.output_tail and "to stderr" in run.output_tail
    assert "doubling 21" in lines and "to stderr" in lines


def test_equal_calls_are_separate_runs(cluster_address: str, tasks: object) -> None:
    app = App(state_dir=None)
    task = app.task(func=tasks.double, execution="dask", name="double",  # type: ignore[attr-defined]
                    parameters={"x": 1}, force_run=True)
    with _runner(app, cluster_address) as r:
        r.finished("double", timeout=WAIT)
        task.force_run = True
        runs = r.finished("double", 2, timeout=WAIT)
    assert [run.outcome for run in runs] == [Outcome.SUCCESS, Outcome.SUCCESS]
    assert [run.output_tail for run in runs] == ["doubling 1\nto stderr\n"] * 2  # (pure=False)


def test_runs_that_finish_together_each_record_their_own_result(
        cluster_address: str, tasks: object) -> None:
    app = App(state_dir=None)
    for i in range(40):  # results fetched many per request: each must reach its run
        app.task(func=tasks.double, execution="dask", name=f"double{i}",  # type: ignore[attr-defined]
                 parameters={"x": i}, force_run=True)
    with _runner(app, cluster_address) as r:
        runs = {i: r.finished(f"double{i}", timeout=WAIT)[0] for i in range(40)}
    for i, run in runs.items():
        assert run.outcome is Outcome.SUCCESS, run.error
        assert f"'value': {2 * i}," in (run.return_summary or ""), (i, run.return_summary)
        assert run.output_tail == f"doubling {i}\nto stderr\n"


def test_a_failing_dask_run_records_the_error_and_the_task_traceback(
        cluster_address: str, tasks: object) -> None:
    app = App(state_dir=None)
    app.task(func=tasks.broken, execution="dask", name="broken",  # type: ignore[attr-defined]
             force_run=True)
    with _runner(app, cluster_address) as r:
        [run] = r.finished("broken", timeout=WAIT)
    assert run.outcome is Outcome.FAIL
    assert run.error == "ValueError: the input was bad"
    assert run.traceback is not None
    assert "dask_tasks.py" in run.traceback and "in broken" in run.traceback


def test_a_timeout_cancels_the_dask_run_and_records_terminate(
        cluster_address: str, tasks: object, tmp_path: Path) -> None:
    app = App(state_dir=None)
    pid_file, release = tmp_path / "pid", tmp_path / "release"
    app.task(func=tasks.hold, execution="dask", name="hold", timeout=1.0,  # type: ignore[attr-defined]
             parameters={"pid_file": str(pid_file), "release": str(release)}, force_run=True)
    try:
        with _runner(app, cluster_address) as r:
            [run] = r.finished("hold", timeout=WAIT)
    finally:
        release.touch()  # the call on the worker cannot be interrupted: let it end
    assert run.outcome is Outcome.TERMINATE
    assert run.error == "timed out after 1 s"


def test_a_run_that_waited_in_the_dask_queue_starts_when_it_began_on_the_worker(
        cluster_address: str, tasks: object, tmp_path: Path) -> None:
    from tui_sched.engine.clock import SystemClock
    from tui_sched.store.sqlite import SqliteRunStore

    app = App(state_dir=None)
    release = tmp_path / "release"
    for name in ("hold1", "hold2"):  # both workers (1 thread each) busy until released
        app.task(func=tasks.hold, execution="dask", name=name,  # type: ignore[attr-defined]
                 parameters={"pid_file": str(tmp_path / name), "release": str(release)},
                 force_run=True)
    queued = app.task(func=tasks.double, execution="dask", name="queued",  # type: ignore[attr-defined]
                      parameters={"x": 1})
    store = SqliteRunStore(tmp_path / "history.sqlite3")
    try:
        with _runner(app, cluster_address, store=store, clock=SystemClock()) as r:
            _wait_for_file(tmp_path / "hold1")
            _wait_for_file(tmp_path / "hold2")
            queued.force_run = True  # dispatched now; it waits in dask for a free thread
            [started] = r.wait_for(lambda e: isinstance(e, RunStarted)
                                   and e.run.task == "queued", timeout=WAIT)
            released_at = time.time()
            release.touch()
            [run] = r.finished("queued", timeout=WAIT)
            holds = [r.finished(name, timeout=WAIT)[0] for name in ("hold1", "hold2")]
            store.flush()
            [stored] = store.history("queued", 1)
    finally:
        release.touch()
    assert isinstance(started, RunStarted)
    assert run.outcome is Outcome.SUCCESS, run.error
    assert started.run.start < released_at  # dispatched while both workers were busy
    # Its start is when it began on a worker, after a hold ended there (give or take
    # the time a result takes to come back), not its dispatch.
    assert run.end is not None and released_at <= run.start <= run.end
    assert run.start >= min(h.end or 0.0 for h in holds) - 0.5
    assert (stored.start, stored.end) == (run.start, run.end)
    assert stored.duration is not None and stored.duration < run.end - started.run.start


def test_a_worker_that_dies_mid_run_gives_crash(cluster_address: str, tasks: object,
                                                 tmp_path: Path) -> None:
    app = App(state_dir=None)
    pid_file, release = tmp_path / "pid", tmp_path / "release"
    app.task(func=tasks.hold, execution="dask", name="hold",  # type: ignore[attr-defined]
             parameters={"pid_file": str(pid_file), "release": str(release)}, force_run=True)
    try:
        with _runner(app, cluster_address) as r:
            os.kill(int(_wait_for_file(pid_file)), signal.SIGKILL)
            [run] = r.finished("hold", timeout=WAIT)
    finally:
        release.touch()
    assert run.outcome is Outcome.CRASH
    assert run.error is not None and "worker" in run.error


def test_after_a_worker_died_the_task_backs_off_then_runs_again_on_a_live_worker(
        cluster_address: str, tasks: object, tmp_path: Path) -> None:
    app = App(state_dir=None)
    pid_file, release = tmp_path / "pid", tmp_path / "release"
    app.task("daily", func=tasks.hold, execution="dask", name="hold",  # type: ignore[attr-defined]
             retry_delay=2, parameters={"pid_file": str(pid_file), "release": str(release)})
    try:
        with _runner(app, cluster_address) as r:
            dead = int(_wait_for_file(pid_file))
            pid_file.unlink()
            os.kill(dead, signal.SIGKILL)
            [crashed] = r.finished("hold", timeout=WAIT)
            r.advance(1.9)
            assert len(r.starts("hold")) == 1  # backing off (retry_delay)
            r.advance(0.1)
            again = int(_wait_for_file(pid_file))  # the next run, on a live worker
            release.touch()
            [_, second] = r.finished("hold", 2, timeout=WAIT)
    finally:
        release.touch()
    assert crashed.outcome is Outcome.CRASH
    assert again != dead
    assert second.outcome is Outcome.SUCCESS, second.error
    assert second.return_summary == "'released'"


def test_the_engine_goes_on_while_a_dask_run_waits_for_a_hung_scheduler(tasks: object) -> None:
    import socket

    silent = socket.socket()  # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
    app = App(state_dir=None)
    app.task(func=tasks.double, execution="dask", name="remote",  # type: ignore[attr-defined]
             parameters={"x": 1}, force_run=True)
    local = app.task(func=tasks.double, execution="thread", name="local",  # type: ignore[attr-defined]
                     parameters={"x": 2})
    try:
        with EngineRunner(app.session, dask={"address": address, "connect_timeout": 120},
                          shutdown_timeout=20.0) as r:
            r.wait_for(lambda e: isinstance(e, RunStarted) and e.run.task == "remote",
                       timeout=WAIT)
            local.force_run = True
            [ran] = r.finished("local", timeout=30)  # not after the 120 s connect timeout
            waiting = not r.finishes("remote")
            r.engine.terminate("remote")
            [remote] = r.finished("remote", timeout=WAIT)
    finally:
        silent.close()
    assert ran.outcome is Outcome.SUCCESS
    assert waiting  # the dask run was still waiting for its scheduler meanwhile
    assert remote.outcome is Outcome.TERMINATE


def test_an_unreachable_scheduler_fails_the_run_with_the_reason_and_reports_it(
        tasks: object) -> None:
    app = App(state_dir=None)
    app.task(func=tasks.double, execution="dask", name="double",  # type: ignore[attr-defined]
             parameters={"x": 1}, force_run=True)
    with _runner(app, "tcp://127.0.0.1:9") as r:  # (port 9: nothing listens there)
        [run] = r.finished("double", timeout=WAIT)
        [problem] = r.wait_for(lambda e: isinstance(e, EngineError), timeout=WAIT)
    assert run.outcome is Outcome.FAIL
    assert run.error is not None
    assert "dask scheduler at tcp://127.0.0.1:9 could not be reached" in run.error
    assert isinstance(problem, EngineError) and problem.message == run.error


def test_without_the_extra_a_dask_task_says_how_to_install_it(
        tasks: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    app = App(state_dir=None)
    with pytest.raises(TaskDefinitionError, match=r"pip install 'tui-sched\[dask\]'"):
        app.task(func=tasks.double, execution="dask", name="double")  # type: ignore[attr-defined]


def test_a_local_cluster_is_started_for_the_runs_and_stopped_with_the_scheduler(
        tasks: object) -> None:
    app = App(state_dir=None)
    app.task(func=tasks.double, execution="dask", name="double",  # type: ignore[attr-defined]
             parameters={"x": 2}, force_run=True)
    with _runner(app, "local") as r:
        [run] = r.finished("double", timeout=WAIT)
    assert run.outcome is Outcome.SUCCESS, run.error
    worker_pid = int((run.return_summary or "").split("'pid': ")[1].rstrip("}"))
    assert worker_pid != os.getpid()
    with pytest.raises(ProcessLookupError):  # stopped with the scheduler
        os.kill(worker_pid, 0)


def test_a_default_execution_of_dask_without_the_extra_fails_the_run_with_the_hint(
        tasks: object, monkeypatch: pytest.MonkeyPatch) -> None:
    app = App(state_dir=None)
    app.task(func=tasks.double, name="double",  # type: ignore[attr-defined]
             parameters={"x": 2}, force_run=True)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    with EngineRunner(app.session, default_execution="dask") as r:
        [run] = r.finished("double", timeout=WAIT)
    assert run.outcome is Outcome.FAIL
    assert run.error is not None and "pip install 'tui-sched[dask]'" in run.error


def test_a_scheduler_lost_mid_run_ends_the_run_and_the_next_run_fails_with_the_reason(
        tasks: object, tmp_path: Path) -> None:
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
    address = str(cluster.scheduler_address)
    app = App(state_dir=None)
    pid_file, release = tmp_path / "pid", tmp_path / "release"
    hold = app.task(func=tasks.hold, execution="dask", name="hold",  # type: ignore[attr-defined]
                    parameters={"pid_file": str(pid_file), "release": str(release)},
                    force_run=True)
    try:
        with _runner(app, address) as r:
            _wait_for_file(pid_file)
            cluster.close()  # the scheduler goes away while the run is on its worker
            [lost] = r.finished("hold", timeout=WAIT)
            # A run sent while the client still tries to reconnect is lost as well; once
            # it gave up, runs fail at once with the reason.
            for count in range(2, 6):
                hold.force_run = True
                again = r.finished("hold", count, timeout=WAIT)[-1]
                if again.outcome is Outcome.FAIL:
                    break
    finally:
        release.touch()
        cluster.close()
    assert lost.outcome is Outcome.CRASH
    assert lost.error is not None and lost.error.startswith("dask lost the run")
    assert again.outcome is Outcome.FAIL
    assert again.error is not None and "could not be reached" in again.error


def _gone(pid: int, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)  # polling another process's pid (no event to wait on)
    return False


def test_with_isolation_a_timeout_kills_the_call_on_the_worker(
        cluster_address: str, tasks: object, tmp_path: Path) -> None:
    app = App(state_dir=None)
    pid_file, release = tmp_path / "pid", tmp_path / "release"
    app.task(func=tasks.hold, execution="dask", dask_isolate=True,  # type: ignore[attr-defined]
             name="hold", timeout=1.0, force_run=True,
             parameters={"pid_file": str(pid_file), "release": str(release)})
    try:
        with _runner(app, cluster_address) as r:
            pid = int(_wait_for_file(pid_file))
            [run] = r.finished("hold", timeout=WAIT)
            assert _gone(pid), "the isolated call was not killed"
    finally:
        release.touch()
    assert run.outcome is Outcome.TERMINATE
    assert run.error == "timed out after 1 s"


def test_an_isolated_run_returns_its_value_output_and_traceback(
        cluster_address: str, tasks: object) -> None:
    app = App(state_dir=None)
    app.task(func=tasks.double, execution="dask", dask_isolate=True,  # type: ignore[attr-defined]
             name="double", parameters={"x": 4}, force_run=True)
    app.task(func=tasks.broken, execution="dask", dask_isolate=True,  # type: ignore[attr-defined]
             name="broken", force_run=True)
    with _runner(app, cluster_address) as r:
        [ok] = r.finished("double", timeout=WAIT)
        [bad] = r.finished("broken", timeout=WAIT)
    assert ok.outcome is Outcome.SUCCESS, ok.error
    assert "'value': 8" in (ok.return_summary or "")
    assert ok.output_tail == "doubling 4\nto stderr\n"
    assert bad.outcome is Outcome.FAIL and bad.error == "ValueError: the input was bad"
    assert bad.traceback is not None and "in broken" in bad.traceback


def test_the_header_facts_show_the_cluster_once_a_dask_run_connected(
        cluster_address: str, tasks: object) -> None:
    from tui_sched.engine.snapshot import build_snapshot
    from tui_sched.tui.model import Facts

    app = App(state_dir=None)
    app.task(func=tasks.double, execution="dask", name="double",  # type: ignore[attr-defined]
             parameters={"x": 1}, force_run=True)
    with _runner(app, cluster_address) as r:
        before = r.engine.call(lambda: build_snapshot(r.engine, None, {})).result(WAIT)
        r.finished("double", timeout=WAIT)
        after = r.engine.call(lambda: build_snapshot(r.engine, None, {})).result(WAIT)
    assert before.facts.cluster is None  # no dask run yet: no cluster line
    assert after.facts.cluster is not None
    assert after.facts.cluster.startswith(f"dask {cluster_address}, 2 workers, 2 threads")
    from tui_sched.tui.widgets.header import StatusLine

    line = StatusLine("tasks", "store")
    line.facts = Facts("running", None, 1, 0, 0, 0, 0, after.facts.cluster)
    assert f"dask {cluster_address}, 2 workers" in line.render_content().plain


def test_terminating_a_dask_run_records_terminate_at_once(
        cluster_address: str, tasks: object, tmp_path: Path) -> None:
    app = App(state_dir=None)
    pid_file, release = tmp_path / "pid", tmp_path / "release"
    app.task(func=tasks.hold, execution="dask", name="hold",  # type: ignore[attr-defined]
             parameters={"pid_file": str(pid_file), "release": str(release)}, force_run=True)
    try:
        with _runner(app, cluster_address) as r:
            _wait_for_file(pid_file)
            r.engine.terminate("hold")
            [run] = r.finished("hold", timeout=WAIT)
    finally:
        release.touch()
    assert run.outcome is Outcome.TERMINATE
    assert run.error == "terminated by the operator"


def test_a_timeout_ends_a_run_that_still_waits_for_the_scheduler(tasks: object) -> None:
    import socket

    silent = socket.socket()  # accepts connections, never answers: a hung scheduler
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
    app = App(state_dir=None)
    app.task(func=tasks.double, execution="dask", name="double",  # type: ignore[attr-defined]
             parameters={"x": 1}, timeout=1.0, force_run=True)
    try:
        with EngineRunner(app.session, dask={"address": address, "connect_timeout": 120},
                          shutdown_timeout=20.0) as r:
            [run] = r.finished("double", timeout=WAIT)
    finally:
        silent.close()
    assert run.outcome is Outcome.TERMINATE
    assert run.error == "timed out after 1 s"


def test_a_command_runs_on_a_dask_worker_with_its_output_and_exit_code(
        cluster_address: str) -> None:
    app = App(state_dir=None)
    app.task(command="echo parent $PPID; echo oops >&2; exit 3", execution="dask",
             name="cmd", force_run=True)
    with _runner(app, cluster_address) as r:
        [run] = r.finished("cmd", timeout=WAIT)
    assert run.outcome is Outcome.FAIL
    assert run.error == "command exited with code 3: oops"
    assert run.output_tail is not None and "oops" in run.output_tail
    assert "parent " in run.output_tail
    assert f"parent {os.getpid()}\n" not in run.output_tail  # a worker's child, not ours


def test_a_timeout_kills_a_command_on_a_dask_worker(cluster_address: str,
                                                    tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    app = App(state_dir=None)
    app.task(command=f"echo $$ > {pid_file}; exec sleep 120", execution="dask", name="cmd",
             timeout=1.0, force_run=True)
    with _runner(app, cluster_address) as r:
        [run] = r.finished("cmd", timeout=WAIT)
        pid = int(_wait_for_file(pid_file))
        assert _gone(pid), "the command was not killed"
    assert run.outcome is Outcome.TERMINATE
    assert run.error == "timed out after 1 s"


def test_an_edited_module_takes_effect_at_the_next_dask_run(cluster_address: str,
                                                             tmp_path: Path) -> None:
    folder = tmp_path / "edit"
    folder.mkdir()
    module_file = folder / "versioned.py"
    module_file.write_text("def version():\n    return 'v1'\n")
    mod = load_file(module_file)
    app = App(state_dir=None)
    task = app.task(func=mod.version, execution="dask", name="version", force_run=True)
    with _runner(app, cluster_address) as r:
        [first] = r.finished("version", timeout=WAIT)
        module_file.write_text("def version():\n    return 'v2'\n")
        task.force_run = True
        [_, second] = r.finished("version", 2, timeout=WAIT)
    assert (first.return_summary, second.return_summary) == ("'v1'", "'v2'")
