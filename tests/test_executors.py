"""Executor contract: the four execution modes (and commands) through the real engine.

Every test runs the real executors inside an ``EngineRunner`` (fake clock, in-memory
store) and waits on engine events; nothing is mocked and the tests never sleep. Task
bodies may sleep briefly (at most 0.5 s) to overrun a timeout of 0.1-0.3 s.

Timeouts are measured in real time by the executors, the schedule by the fake clock.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fixtures import proc_tasks
from harness import START, EngineRunner

from tui_sched import App
from tui_sched.args import Return
from tui_sched.engine.clock import FakeClock
from tui_sched.engine.events import LogLine, RunFinished, RunStarted
from tui_sched.store.base import Outcome, RunEnd, RunRecord
from tui_sched.store.memory import MemoryRunStore
from tui_sched.tasks.modules import load_file

MODES = ["main", "async", "thread", "process"]


def fn(mode: str, name: str) -> Callable[..., Any]:
    """The fixture function ``name`` for ``mode``: the coroutine variant under async."""
    return getattr(proc_tasks, f"a{name}" if mode == "async" else name)  # type: ignore[no-any-return]


def runner(app: App, **config: Any) -> EngineRunner:
    config.setdefault("termination_grace", 0.2)
    config.setdefault("process_workers", 2)
    return EngineRunner(app.session, **config)


def stored(r: EngineRunner, task: str) -> list[RunRecord]:
    """The task's rows in the run store (read on the engine thread)."""
    return r.engine.call(lambda: r.store.history(task)).result(5)


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie waiting for a parent to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def gone_within(pid: int, timeout: float = 5.0) -> bool:
    """Poll a real process until it is gone or ``timeout`` passes (no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        threading.Event().wait(0.01)
    return not alive(pid)


def read_pid(path: Path, timeout: float = 5.0) -> int:
    """The pid a task wrote to ``path`` (it is written atomically or before the run ends)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text().strip() if path.exists() else ""
        if text:
            return int(text)
        threading.Event().wait(0.01)
    raise AssertionError(f"the task never wrote its child's pid to {path}")


# == the contract, once per mode =======================================================
@pytest.mark.parametrize("mode", MODES)
def test_return_value_is_recorded(mode: str) -> None:
    app = App(state_dir=None)
    app.task(func=fn(mode, "give"), execution=mode, name="answer",
             parameters={"value": {"answer": 42, "rows": [1, 2]}}, force_run=True)
    with runner(app) as r:
        [run] = r.finished("answer")
        [row] = stored(r, "answer")
    assert run.outcome is Outcome.SUCCESS, run.error
    assert run.return_summary == "{'answer': 42, 'rows': [1, 2]}"
    assert app.session.returns["answer"] == {"answer": 42, "rows": [1, 2]}
    assert row.outcome is Outcome.SUCCESS and row.return_summary == run.return_summary


PIPELINES = [(m, m) for m in MODES] + [
    ("process", "thread"), ("thread", "process"), ("async", "main"), ("main", "async"),
    ("process", "async"), ("main", "process"),
]


@pytest.mark.parametrize(("up", "down"), PIPELINES, ids=[f"{u}->{d}" for u, d in PIPELINES])
def test_return_pipelines_into_downstream_task(up: str, down: str) -> None:
    app = App(state_dir=None)
    app.task(func=fn(up, "give"), execution=up, name="source",
             parameters={"value": [1, "a"]}, force_run=True)
    with runner(app) as r:
        [first] = r.finished("source")
        assert first.outcome is Outcome.SUCCESS, first.error
        # Return("source") as the function's default ...
        app.task(func=fn(down, "doubled"), execution=down, name="by_default", force_run=True)
        # ... and as a value in parameters=.
        app.task(func=fn(down, "times_ten"), execution=down, name="by_parameter",
                 parameters={"x": Return("source")}, force_run=True)
        [by_default] = r.finished("by_default")
        [by_parameter] = r.finished("by_parameter")
    assert by_default.outcome is Outcome.SUCCESS, by_default.error
    assert app.session.returns["by_default"] == [1, "a", 1, "a"]
    assert by_parameter.outcome is Outcome.SUCCESS, by_parameter.error
    assert app.session.returns["by_parameter"] == [1, "a"] * 10


def test_return_uses_the_last_success_and_default_when_none() -> None:
    app = App(state_dir=None)
    src = app.task(func=proc_tasks.give, execution="thread", name="source",
                   parameters={"value": 1}, force_run=True)
    with runner(app) as r:
        r.finished("source")
        src.parameters = {"value": 5}
        src.force_run = True
        r.finished("source", 2)
        app.task(func=proc_tasks.boom, execution="thread", name="source_fails_later",
                 force_run=True)
        r.finished("source_fails_later")
        app.task(func=proc_tasks.times_ten, execution="process", name="latest",
                 parameters={"x": Return("source")}, force_run=True)
        app.task(func=proc_tasks.times_ten, execution="thread", name="fallback",
                 parameters={"x": Return("source_fails_later", default=3)}, force_run=True)
        [latest] = r.finished("latest")
        [fallback] = r.finished("fallback")
    assert latest.return_summary == "50"
    assert fallback.return_summary == "30"


@pytest.mark.parametrize("mode", MODES)
def test_raised_exception_is_fail_with_traceback(mode: str) -> None:
    app = App(state_dir=None)
    app.task(func=fn(mode, "boom"), execution=mode, name="bad", force_run=True)
    with runner(app) as r:
        [run] = r.finished("bad")
        app.task(func=fn(mode, "give"), execution=mode, name="after", force_run=True)
        [after] = r.finished("after")
        [row] = stored(r, "bad")
    assert run.outcome is Outcome.FAIL
    assert run.error == "ValueError: boom from the task"
    assert run.traceback is not None
    assert run.traceback.startswith("Traceback (most recent call last)")
    assert "proc_tasks.py" in run.traceback and 'raise ValueError("boom' in run.traceback
    assert "bad" not in app.session.returns
    assert row.outcome is Outcome.FAIL and row.traceback == run.traceback
    assert after.outcome is Outcome.SUCCESS  # the scheduler is unaffected


# How each mode overruns a 0.2 s timeout. A `main` task runs inline on the scheduler
# loop and cannot be interrupted (DESIGN §1.6): it runs to its end, and because it
# overran it is recorded as `terminate` all the same, with the reason in the error.
OVERRUN: dict[str, tuple[str, dict[str, Any]]] = {
    "main": ("overrun", {"seconds": 0.4}),
    "async": ("aoverrun", {"seconds": 0.5}),  # cancelled
    "thread": ("cooperative", {}),  # sees its TerminationFlag and returns
    "process": ("overrun", {"seconds": 0.5}),  # its worker is killed
}


@pytest.mark.parametrize("mode", MODES)
def test_timeout_terminates_and_scheduler_carries_on(mode: str) -> None:
    app = App(state_dir=None)
    func_name, params = OVERRUN[mode]
    log: list[str] = []
    if mode != "process":
        params = {**params, "log": log}
    app.task(func=getattr(proc_tasks, func_name), execution=mode, name="slow",
             timeout=0.2, parameters=params, force_run=True)
    with runner(app) as r:
        [run] = r.finished("slow")
        app.task(func=fn(mode, "give"), execution=mode, name="after", force_run=True)
        [after] = r.finished("after")
        [row] = stored(r, "slow")
    assert run.outcome is Outcome.TERMINATE
    assert run.error is not None and run.error.startswith("timed out after 0.2 s")
    assert "slow" not in app.session.returns
    assert row.outcome is Outcome.TERMINATE
    if mode == "main":
        assert "cannot be interrupted" in run.error
        assert log == ["finished anyway"]
    elif mode == "async":
        assert log == ["cancelled"]
    elif mode == "thread":
        assert log == ["stopped on the flag"]
        assert "abandoned" not in run.error
    assert after.outcome is Outcome.SUCCESS


@pytest.mark.parametrize("mode", MODES)
def test_print_output_goes_to_tail_and_log_lines(mode: str) -> None:
    app = App(state_dir=None)
    app.task(func=fn(mode, "chatty"), execution=mode, name="talker",
             parameters={"word": f"hi-{mode}"}, force_run=True)
    with runner(app) as r:
        [run] = r.finished("talker")
        lines = r.wait_for(lambda e: isinstance(e, LogLine) and e.task == "talker", 2)
    assert run.outcome is Outcome.SUCCESS, run.error
    assert run.output_tail == f"hi-{mode} line one\nhi-{mode} line two\n"
    assert [(e.stream, e.text, e.run_id) for e in lines if isinstance(e, LogLine)] == [
        ("stdout", f"hi-{mode} line one", run.id),
        ("stdout", f"hi-{mode} line two", run.id),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_inaction(mode: str) -> None:
    app = App(state_dir=None)
    app.task(func=fn(mode, "nothing_to_do"), execution=mode, name="idle", force_run=True)
    with runner(app) as r:
        [run] = r.finished("idle")
    assert run.outcome is Outcome.INACTION
    assert run.error is None
    assert "idle" not in app.session.returns


# == process only ======================================================================
def test_process_workers_are_warm_and_reused() -> None:
    app = App(state_dir=None)
    task = app.task(func=proc_tasks.pid, execution="process", name="pid", force_run=True)
    with runner(app, process_workers=1) as r:
        r.finished("pid")
        first = app.session.returns["pid"]
        task.force_run = True
        r.finished("pid", 2)
    assert first != os.getpid()
    assert app.session.returns["pid"] == first


@pytest.mark.parametrize(("func", "expected"), [
    (proc_tasks.exit_3, "exited with code 3"),
    (proc_tasks.segfault, "SIGSEGV"),
], ids=["os._exit(3)", "segfault"])
def test_process_death_is_crash_and_the_pool_recovers(func: Callable[[], None], expected: str) -> None:
    app = App(state_dir=None)
    probe = app.task(func=proc_tasks.pid, execution="process", name="pid", force_run=True)
    with runner(app, process_workers=1) as r:
        r.finished("pid")
        before = app.session.returns["pid"]
        app.task(func=func, execution="process", name="dies", force_run=True)
        [run] = r.finished("dies")
        probe.force_run = True
        [_, again] = r.finished("pid", 2)
        app.task("every 1 second", func=proc_tasks.give, execution="main", name="ticker")
        r.finished("ticker")
        r.advance(1)
        r.finished("ticker", 2)
    assert run.outcome is Outcome.CRASH
    assert run.error is not None and expected in run.error
    assert again.outcome is Outcome.SUCCESS
    assert app.session.returns["pid"] != before  # a fresh worker replaced the dead one
    assert not alive(before)


def test_process_timeout_kills_worker_and_grandchild(tmp_path: Path) -> None:
    app = App(state_dir=None)
    pidfile = tmp_path / "grandchild.pid"
    app.task(func=proc_tasks.pid, execution="process", name="pid", force_run=True)
    with runner(app, process_workers=1) as r:
        r.finished("pid")  # warm: the worker has booted before the timeout starts counting
        worker = app.session.returns["pid"]
        app.task(func=proc_tasks.spawn_grandchild, execution="process", name="spawner",
                 timeout=0.3, parameters={"pidfile": str(pidfile)}, force_run=True)
        [run] = r.finished("spawner")
        grandchild = read_pid(pidfile)
        assert gone_within(worker), "the timed-out worker is still alive"
        assert gone_within(grandchild), "the worker's child `sleep 30` outlived the run"
        app.session["pid"].force_run = True
        [_, again] = r.finished("pid", 2)
    assert run.outcome is Outcome.TERMINATE
    assert run.error is not None and run.error.startswith("timed out after 0.3 s")
    assert again.outcome is Outcome.SUCCESS and app.session.returns["pid"] != worker


def test_process_unpicklable_return_is_a_clear_fail() -> None:
    app = App(state_dir=None)
    app.task(func=proc_tasks.unpicklable_return, execution="process", name="lock",
             force_run=True)
    with runner(app, process_workers=1) as r:
        [run] = r.finished("lock")
        app.task(func=proc_tasks.give, execution="process", name="after", force_run=True)
        [after] = r.finished("after")
    assert run.outcome is Outcome.FAIL
    assert run.error is not None
    assert "return value (lock) could not be sent back from the process" in run.error
    assert after.outcome is Outcome.SUCCESS


def test_process_unpicklable_argument_is_a_clear_fail() -> None:
    app = App(state_dir=None)
    app.task(func=proc_tasks.times_ten, execution="process", name="lock_arg",
             parameters={"x": threading.Lock()}, force_run=True)
    with runner(app, process_workers=1) as r:
        [run] = r.finished("lock_arg")
        app.task(func=proc_tasks.times_ten, execution="process", name="after",
                 parameters={"x": 4}, force_run=True)
        [after] = r.finished("after")
    assert run.outcome is Outcome.FAIL
    assert run.error is not None
    assert "arguments could not be sent to the process" in run.error
    assert after.outcome is Outcome.SUCCESS and after.return_summary == "40"


def _rewrite(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    # Make sure the modification time differs even on a coarse-grained file system.
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_process_task_follows_its_module_file_after_a_rewrite(tmp_path: Path) -> None:
    module_file = tmp_path / "hot_module.py"
    module_file.write_text("def value():\n    return 'v1'\n")
    v1 = load_file(module_file)
    app = App(state_dir=None)
    old = app.task(func=v1.value, execution="process", name="old", force_run=True)
    with runner(app, process_workers=1) as r:  # one warm worker sees both versions
        [first] = r.finished("old")
        _rewrite(module_file, "def value():\n    return 'v2'\n")
        v2 = load_file(module_file)
        assert v2 is not v1 and v2.value() == "v2"
        app.task(func=v2.value, execution="process", name="new", force_run=True)
        [new] = r.finished("new")
        # Sent by reference (file + name): the old task now runs the new code too.
        old.force_run = True
        [_, old_again] = r.finished("old", 2)
    assert first.return_summary == "'v1'"
    assert new.return_summary == "'v2'"
    assert old_again.return_summary == "'v2'"


# == commands ==========================================================================
def test_command_string_runs_through_the_shell() -> None:
    app = App(state_dir=None)
    task = app.task(command='echo "Hello world"', force_run=True)
    assert task.name == 'echo "Hello world"'
    with runner(app) as r:
        [run] = r.finished(task.name)
        lines = r.wait_for(lambda e: isinstance(e, LogLine) and e.task == task.name)
    assert run.outcome is Outcome.SUCCESS, run.error
    assert run.output_tail == "Hello world\n"
    assert [e.text for e in lines if isinstance(e, LogLine)] == ["Hello world"]


def test_command_list_runs_without_a_shell() -> None:
    app = App(state_dir=None)
    arg = "$HOME; echo injected"
    app.task(command=[sys.executable, "-c", "import sys; print(sys.argv[1])", arg],
             name="listed", force_run=True)
    with runner(app) as r:
        [run] = r.finished("listed")
    assert run.outcome is Outcome.SUCCESS, run.error
    assert run.output_tail == f"{arg}\n"  # no expansion, no second command


def test_command_nonzero_exit_is_fail_with_code_and_stderr_tail() -> None:
    app = App(state_dir=None)
    app.task(command="echo starting; echo 'disk is full' >&2; exit 4", name="broken",
             force_run=True)
    with runner(app) as r:
        [run] = r.finished("broken")
        lines = r.wait_for(lambda e: isinstance(e, LogLine) and e.task == "broken", 2)
    assert run.outcome is Outcome.FAIL
    assert run.error is not None
    assert "exited with code 4" in run.error and "disk is full" in run.error
    assert {(e.stream, e.text) for e in lines if isinstance(e, LogLine)} == {
        ("stdout", "starting"), ("stderr", "disk is full")}


def test_command_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    app = App(state_dir=None)
    pidfile = tmp_path / "bg.pid"
    app.task(command=f"sleep 30 & echo $! > '{pidfile}'; wait", name="hang", timeout=0.3,
             force_run=True)
    with runner(app) as r:
        [run] = r.finished("hang")
        background = read_pid(pidfile)
        assert gone_within(background), "the command's background child outlived the run"
        app.task(command="echo after", name="after", force_run=True)
        [after] = r.finished("after")
    assert run.outcome is Outcome.TERMINATE
    assert run.error is not None and run.error.startswith("timed out after 0.3 s")
    assert after.outcome is Outcome.SUCCESS


# == thread only =======================================================================
def test_thread_ignoring_its_flag_is_abandoned_and_scheduler_carries_on() -> None:
    app = App(state_dir=None)
    log: list[str] = []
    app.task(func=proc_tasks.overrun, execution="thread", name="stubborn", timeout=0.1,
             parameters={"seconds": 0.5, "log": log}, force_run=True)
    with runner(app, termination_grace=0.1) as r:
        [run] = r.finished("stubborn")
        assert log == []  # recorded while the thread still runs
        app.task(func=proc_tasks.give, execution="thread", name="after", force_run=True)
        [after] = r.finished("after")
    assert run.outcome is Outcome.TERMINATE
    assert run.error is not None
    assert run.error.startswith("timed out after 0.1 s") and "abandoned" in run.error
    assert after.outcome is Outcome.SUCCESS


class _StampClock(FakeClock):
    """A fake clock that says when a worker thread of the thread executor read it: what
    a worker does right after its function returns (to stamp the run's end)."""

    def __init__(self) -> None:
        super().__init__(START)
        self.read_by_worker = threading.Event()

    def time(self) -> float:
        if threading.current_thread().name.startswith("tui-sched-run-"):
            self.read_by_worker.set()
        return super().time()


def test_thread_run_ends_when_its_function_returned_even_while_the_loop_is_busy() -> None:
    app = App(state_dir=None)
    release_worker, blocker_in, release_blocker = (threading.Event() for _ in range(3))
    app.task(func=lambda: release_worker.wait(10), execution="thread", name="worker",
             force_run=True, priority=2)

    def blocker() -> None:
        blocker_in.set()
        release_blocker.wait(10)

    app.task(func=blocker, execution="main", name="blocker", force_run=True, priority=1)
    clock = _StampClock()
    with EngineRunner(app.session, clock=clock) as r:
        t0 = clock.time()
        assert blocker_in.wait(10)  # the engine's thread is inside the main run now
        clock.advance(5)
        release_worker.set()
        assert clock.read_by_worker.wait(10)  # the worker stamped its end: t0 + 5
        clock.advance(5)
        release_blocker.set()
        [worker] = r.finished("worker")
        [main] = r.finished("blocker")
    assert worker.outcome is Outcome.SUCCESS and main.outcome is Outcome.SUCCESS
    assert worker.end == t0 + 5  # not when the busy loop got to its result
    assert main.end == t0 + 10


def test_a_thread_run_that_gets_no_thread_fails_once_and_never_runs_later(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = App(state_dir=None)
    ran: list[str] = []
    task = app.task(func=lambda: ran.append("ran"), execution="thread", name="starved",
                    force_run=True)
    real_start = threading.Thread.start

    def no_thread(self: threading.Thread) -> None:  # the system is out of threads
        if self.name.startswith("tui-sched-run-"):
            raise RuntimeError("can't start new thread")
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    with runner(app) as r:
        [refused] = r.finished("starved")
        monkeypatch.setattr(threading.Thread, "start", real_start)  # threads again
        task.force_run = True
        _, second = r.finished("starved", count=2)
    assert refused.outcome is Outcome.FAIL and refused.error is not None
    assert "can't start new thread" in refused.error
    assert second.outcome is Outcome.SUCCESS
    assert ran == ["ran"]  # the refused run was not left queued, to run unrecorded later
    assert len([e for e in r.events if isinstance(e, RunFinished)]) == 2


def test_shutdown_completes_when_recording_a_thread_run_s_end_fails() -> None:
    class FailingStore(MemoryRunStore):  # a store with a bug in finish_run
        def finish_run(self, run_id: int, end: RunEnd) -> None:
            raise RuntimeError("bug in the store")

    app = App(state_dir=None)
    returned = threading.Event()
    app.task(func=returned.set, execution="thread", name="t", force_run=True)
    r = EngineRunner(app.session, store=FailingStore(), shutdown_timeout=0.2)
    with r:
        assert returned.wait(10)
        r.sync()  # the result has been taken (and failed to be recorded)
    assert r.restart is False  # stopped: the run's future did not keep shutdown waiting


def test_thread_results_that_arrive_together_are_taken_in_one_wake_up() -> None:
    from tui_sched.executors.base import JobResult
    from tui_sched.executors.thread import _Inbox

    class Run:  # what the inbox hands each result back to
        def __init__(self, k: int, delivered: list[int]) -> None:
            self.k, self.delivered = k, delivered
            self.job = type("J", (), {"run_id": k})()

        def returned(self, result: JobResult, end: float) -> None:
            assert result.outcome is Outcome.SUCCESS and end == float(self.k)
            self.delivered.append(self.k)

    async def scenario() -> tuple[list[int], int]:
        loop = asyncio.get_running_loop()
        inbox, delivered, wakeups = _Inbox(loop), [], 0
        real = loop.call_soon_threadsafe

        def counting(callback: Any, *args: Any) -> Any:  # each is a self-pipe write
            nonlocal wakeups
            wakeups += 1
            return real(callback, *args)

        loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        workers = [threading.Thread(target=inbox.put,
                                    args=(Run(k, delivered), JobResult(Outcome.SUCCESS), float(k)))
                   for k in range(3)]
        for w in workers:  # all three hand their result over while the loop is busy here
            w.start()
        for w in workers:
            w.join(10)
        await asyncio.sleep(0)  # one turn: the batch
        return delivered, wakeups

    delivered, wakeups = asyncio.run(scenario())
    assert sorted(delivered) == [0, 1, 2]
    assert wakeups == 1


# == defaults ==========================================================================
def test_coroutine_function_defaults_to_async_on_the_scheduler_loop() -> None:
    app = App(state_dir=None)

    async def fetch() -> str:
        await asyncio.sleep(0)
        return threading.current_thread().name

    @app.task(force_run=True)  # type: ignore[untyped-decorator]
    async def decorated() -> str:
        await asyncio.sleep(0)
        return "decorated"

    task = app.task(func=fetch, force_run=True)
    assert task.execution == "async"
    assert app.session["decorated"].execution == "async"
    with runner(app) as r:
        [run] = r.finished("fetch")
        [dec] = r.finished("decorated")
    assert run.outcome is Outcome.SUCCESS, run.error
    assert app.session.returns["fetch"] == r.thread.name  # ran on the engine's loop
    assert dec.return_summary == "'decorated'"


def test_plain_def_under_default_execution_never_blocks_the_scheduler() -> None:
    app = App(state_dir=None)
    entered, release = threading.Event(), threading.Event()

    def blocker() -> str:
        entered.set()
        assert release.wait(10)
        return "released"

    task = app.task(func=blocker, force_run=True)
    assert task.execution == "thread"
    app.task("every 1 second", func=proc_tasks.give, execution="main", name="ticker")
    with runner(app) as r:
        assert entered.wait(5)
        r.finished("ticker", 1)
        for n in (2, 3, 4):
            r.advance(1)
            r.finished("ticker", n)
        assert r.finishes("blocker") == []
        assert len(r.starts("blocker")) == 1
        release.set()
        [run] = r.finished("blocker")
    assert run.outcome is Outcome.SUCCESS
    assert run.return_summary == "'released'"


def test_process_output_below_python_lands_in_its_own_run() -> None:
    app = App(state_dir=None)
    task = app.task(func=proc_tasks.raw_output, execution="process", name="raw",
                    parameters={"tag": "run1"}, force_run=True)
    with runner(app, process_workers=1) as r:  # the same warm worker for every run
        runs = r.finished("raw")
        for n in range(2, 9):
            task.parameters = {"tag": f"run{n}"}
            task.force_run = True
            runs = r.finished("raw", n)
    assert [run.output_tail for run in runs] == [
        f"child run{n}\nfd run{n}\n" for n in range(1, 9)]


def test_process_raw_output_keeps_characters_split_across_reads() -> None:
    app = App(state_dir=None)
    app.task(func=proc_tasks.raw_unicode, execution="process", name="wide", force_run=True)
    with runner(app) as r:
        [run] = r.finished("wide")
        [line] = r.wait_for(lambda e: isinstance(e, LogLine) and e.task == "wide")
    assert run.outcome is Outcome.SUCCESS, run.error
    assert isinstance(line, LogLine)
    assert line.text == "x" + "é" * 40000


# == coroutine functions under thread and process ======================================
@pytest.mark.parametrize("mode", ["thread", "process"])
def test_coroutine_function_runs_under_thread_and_process(mode: str) -> None:
    app = App(state_dir=None)
    app.task(func=proc_tasks.agive, execution=mode, name="coro",
             parameters={"value": 7}, force_run=True)
    app.task(func=proc_tasks.aboom, execution=mode, name="coro_fails", force_run=True)
    app.task(func=proc_tasks.anothing_to_do, execution=mode, name="coro_idle", force_run=True)
    with runner(app) as r:
        [ok] = r.finished("coro")
        [bad] = r.finished("coro_fails")
        [idle] = r.finished("coro_idle")
    assert ok.outcome is Outcome.SUCCESS and ok.return_summary == "7"
    assert bad.outcome is Outcome.FAIL and bad.error == "ValueError: boom from the task"
    assert idle.outcome is Outcome.INACTION


def test_coroutine_under_thread_is_cancelled_on_timeout() -> None:
    app = App(state_dir=None)
    log: list[str] = []
    app.task(func=proc_tasks.aoverrun, execution="thread", name="slow_coro", timeout=0.2,
             parameters={"seconds": 0.5, "log": log}, force_run=True)
    with runner(app) as r:
        [run] = r.finished("slow_coro")
    assert run.outcome is Outcome.TERMINATE
    assert run.error == "timed out after 0.2 s"  # cancelled, not abandoned
    assert log == ["cancelled"]


def test_process_output_before_a_crash_is_kept() -> None:
    app = App(state_dir=None)
    app.task(func=proc_tasks.last_words_then_exit, execution="process", name="dying",
             force_run=True)
    with runner(app) as r:
        [run] = r.finished("dying")
    assert run.outcome is Outcome.CRASH
    assert run.error == "the worker process exited with code 3"
    assert run.output_tail is not None
    assert "printed before dying\n" in run.output_tail
    assert "written to fd 1 before dying\n" in run.output_tail


def test_process_print_lines_are_never_split_by_output_written_to_fd_1() -> None:
    app = App(state_dir=None)
    app.task(func=proc_tasks.half_line_then_raw_output, execution="process", name="mixed",
             force_run=True)
    with runner(app, output_tail=100_000) as r:
        [run] = r.finished("mixed")
    assert run.outcome is Outcome.SUCCESS, run.error
    assert run.output_tail is not None
    lines = run.output_tail.splitlines()
    assert sorted(lines) == sorted([f"printed {i}" for i in range(200)]
                                   + [f"raw {i}" for i in range(200)])


def test_a_process_task_that_calls_sys_exit_fails_with_its_traceback() -> None:
    app = App(state_dir=None)
    app.task(func=proc_tasks.exits_with_code_5, execution="process", name="quits",
             force_run=True)
    with runner(app) as r:
        [run] = r.finished("quits")
    assert run.outcome is Outcome.FAIL
    assert run.error == "SystemExit: 5"
    assert run.traceback is not None and "exits_with_code_5" in run.traceback


def test_command_output_keeps_characters_split_across_reads() -> None:
    app = App(state_dir=None)
    code = "import sys; sys.stdout.buffer.write(('x' + 'é' * 40000 + '\\n').encode())"
    app.task(command=[sys.executable, "-c", code], name="wide", force_run=True)
    with runner(app) as r:
        [run] = r.finished("wide")
        [line] = r.wait_for(lambda e: isinstance(e, LogLine) and e.task == "wide")
    assert run.outcome is Outcome.SUCCESS, run.error
    assert isinstance(line, LogLine)
    assert line.text == "x" + "é" * 40000


# == termination by request (the operator's key, end_cond, shutdown) ==================
STOPPABLE: dict[str, dict[str, Any]] = {
    "async": {"func": proc_tasks.aoverrun, "execution": "async"},
    "thread": {"func": proc_tasks.cooperative, "execution": "thread"},
    "process": {"func": proc_tasks.overrun, "execution": "process"},
    "command": {"command": "sleep 0.5"},
}


@pytest.mark.parametrize("kind", list(STOPPABLE))
def test_operator_termination_stops_the_run(kind: str) -> None:
    app = App(state_dir=None)
    app.task(name="slow", force_run=True, **STOPPABLE[kind])
    with runner(app) as r:
        r.wait_for(lambda e: isinstance(e, RunStarted) and e.run.task == "slow")
        r.engine.terminate("slow")
        [run] = r.finished("slow")
        app.session.run_task("slow")
        r.finished("slow", 2)  # it can run again
    assert run.outcome is Outcome.TERMINATE
    assert run.error == "terminated by the operator"


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit, asyncio.CancelledError])
def test_an_async_run_that_raises_while_being_terminated_still_ends_as_terminate(
        exc: type[BaseException]) -> None:
    async def stubborn() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            raise exc()  # what a task's own clean-up may raise when it is cancelled

    app = App(state_dir=None)
    app.task(func=stubborn, name="stubborn", execution="async", force_run=True)
    with runner(app) as r:
        r.wait_for(lambda e: isinstance(e, RunStarted) and e.run.task == "stubborn")
        r.engine.terminate("stubborn")
        [run] = r.finished("stubborn")
        app.session.run_task("stubborn")  # the scheduler is still there
        r.wait_for(lambda e: isinstance(e, RunStarted) and e.run.task == "stubborn", 2)
        r.engine.terminate("stubborn")
        r.finished("stubborn", 2)
    assert run.outcome is Outcome.TERMINATE
    assert run.error == "terminated by the operator"


def test_output_is_captured_even_when_someone_swapped_sys_stdout_meanwhile(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Another engine in the process holds the capture, then something else (a test
    # harness, a task module) swaps sys.stdout: a new engine's runs still get their output.
    from tui_sched.executors.output import OutputCapture

    OutputCapture.install()
    try:
        monkeypatch.setattr(sys, "stdout", io.StringIO())
        app = App(state_dir=None)

        @app.task(execution="thread", force_run=True)
        def talks() -> None:
            print("said in the run")

        with runner(app) as r:
            [run] = r.finished("talks")
        assert run.output_tail == "said in the run\n"
    finally:
        OutputCapture.uninstall()
