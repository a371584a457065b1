"""A task must never take the scheduler down (issue 18): the real ``tui-sched run``.

Each test starts the real command in a subprocess on a folder of task modules that
misbehave, and reads what a user reads: log lines, the exit code, and the history file.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import textwrap
import time
from pathlib import Path

import pytest
from cli_process import Headless, cli

from tui_sched.store.sqlite import SqliteRunStore

RAISERS = textwrap.dedent('''
    import itertools
    import sys
    from tui_sched import App

    app = App()

    class Custom(BaseException):
        """Not an Exception: a library's own BaseException subclass."""

    @app.task("every 1 hour", execution="async")
    async def async_exit():
        sys.exit(4)

    @app.task("every 1 hour", execution="async")
    async def async_interrupt():
        raise KeyboardInterrupt

    @app.task("every 1 hour", execution="async")
    async def async_custom():
        raise Custom("a custom BaseException")

    @app.task("every 1 hour", execution="main")
    def main_interrupt():
        raise KeyboardInterrupt

    @app.task("every 1 hour", execution="main")
    def main_exit():
        sys.exit(4)

    @app.task("every 1 hour", execution="main")
    def main_generator_exit():
        raise GeneratorExit

    @app.task("every 1 hour", execution="thread")
    def thread_exit():
        sys.exit("bye")

    attempts = itertools.count(1)

    @app.task("every 1 second", execution="thread")
    def thread_interrupt():
        print(f"attempt {next(attempts)}", flush=True)
        raise KeyboardInterrupt
''')

EXPECTED_ERRORS = {
    "async_exit": "SystemExit: 4",
    "async_interrupt": "KeyboardInterrupt",
    "async_custom": "Custom: a custom BaseException",
    "main_interrupt": "KeyboardInterrupt",
    "main_exit": "SystemExit: 4",
    "main_generator_exit": "GeneratorExit",
    "thread_exit": "SystemExit: bye",
    "thread_interrupt": "KeyboardInterrupt",
}


def _tasks(tmp_path: Path, source: str) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "faulty.py").write_text(source)


def _runs(tmp_path: Path) -> list[tuple[str, str | None, str | None, str | None]]:
    db = sqlite3.connect(tmp_path / ".tui-sched" / "history.sqlite3")
    try:
        return db.execute("SELECT task, outcome, error, traceback FROM runs ORDER BY id").fetchall()
    finally:
        db.close()


@pytest.mark.slow
def test_every_base_exception_a_task_raises_is_a_failed_run_and_the_scheduler_goes_on(
        tmp_path: Path) -> None:
    _tasks(tmp_path, RAISERS)
    proc = Headless("tasks", cwd=tmp_path)
    try:
        for task in EXPECTED_ERRORS:
            proc.expect(f"{task}: fail")
        # The thread task's run was closed, so its next starts are runs, not `skipped`.
        proc.expect("thread_interrupt | attempt 3")
        stopping = time.monotonic()
        proc.signal(signal.SIGTERM)
        # Nothing is left running: the graceful stop does not wait out its timeout.
        assert proc.wait(timeout=20) == 0
        assert time.monotonic() - stopping < 10
    finally:
        proc.kill()
    assert not any("skipped" in line for line in proc.lines), proc.lines
    runs = _runs(tmp_path)
    assert all(outcome is not None for _, outcome, _, _ in runs), "a run was left open"
    for task, error in EXPECTED_ERRORS.items():
        first = next(r for r in runs if r[0] == task)
        assert first[1:3] == ("fail", error), first
        assert first[3] is not None and "Traceback" in first[3], first
        assert error.split(":")[0] in first[3]


BIG_RETURN = textwrap.dedent('''
    from tui_sched import App

    app = App()

    @app.task("every 1 hour", execution="{mode}")
    def big():
        # 800 kB of list whose repr is 100 MB: one 1,000-character string, 100,000 times.
        return ["x" * 1000] * 100_000
''')


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (``VmHWM``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


@pytest.mark.parametrize("mode", ["thread", "main"])
def test_a_return_value_with_a_huge_repr_is_summarised_without_building_it(
        tmp_path: Path, mode: str) -> None:
    _tasks(tmp_path, BIG_RETURN.replace("{mode}", mode))
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("big: success")
        peak = _peak_rss_mb(proc.proc.pid)
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
    # About 45 MB; building the whole repr took 100 MB more (138 MB measured).
    assert peak < 90, f"peak RSS {peak:.0f} MB"
    store = SqliteRunStore.open_readonly(tmp_path / ".tui-sched" / "history.sqlite3")
    try:
        [run] = store.history("big")
    finally:
        store.close()
    assert run.return_summary == ("['" + "x" * 1000)[:200]


SPINNER = textwrap.dedent('''
    from tui_sched import App

    app = App()

    @app.task("every 1 hour", execution="{mode}")
    {async_}def spin():
        print("spinning", flush=True)
        while True:  # CPU-bound: never gives the scheduler loop back
            pass
''')


def _history(tmp_path: Path, task: str) -> list[dict]:  # type: ignore[type-arg]
    result = cli("history", task, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "signals"), [("async", 2), ("main", 2), ("main", 1)])
def test_stop_signals_work_while_a_cpu_bound_task_holds_the_loop(
        tmp_path: Path, mode: str, signals: int) -> None:
    _tasks(tmp_path, SPINNER.replace("{mode}", mode).replace(
        "{async_}", "async " if mode == "async" else ""))
    # A single signal waits for the graceful stop's bound: shutdown_timeout + grace + 3 s.
    (tmp_path / "tui-sched.toml").write_text(
        '[scheduler]\nshutdown_timeout = "1 second"\ntermination_grace = "1 second"\n')
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("spin | spinning")
        began = time.monotonic()
        proc.signal(signal.SIGTERM)
        proc.expect("received SIGTERM: shutting down")
        if signals == 2:
            proc.signal(signal.SIGTERM)
            proc.expect("received SIGTERM again")
        code = proc.wait(timeout=30)
        took = time.monotonic() - began
    finally:
        proc.kill()
    assert code == 128 + signal.SIGTERM, proc.lines
    assert took < (8 if signals == 2 else 10), f"took {took:.1f} s"
    [line] = [x for x in proc.lines if "did not stop in time" in x]
    assert "recorded as terminated: spin (run 1)" in line
    [run] = _history(tmp_path, "spin")
    assert run["outcome"] == "terminate"
    assert f"this {mode} run held the scheduler loop" in run["error"]
    assert run["end"] is not None
    # The store is consistent: a restart finds nothing left open, and `spin` (started
    # within the hour) is not due again.
    again = Headless("tasks", cwd=tmp_path)
    try:
        again.expect("scheduler started")
        again.signal(signal.SIGTERM)
        assert again.wait() == 0
    finally:
        again.kill()
    assert not any("left open" in x or "spin: started" in x for x in again.lines), again.lines
    assert len(_history(tmp_path, "spin")) == 1
