"""Helpers for the TUI tests: a task folder, a host on a fake clock, waiting with a
deadline on what the app shows (never fixed sleeps)."""

from __future__ import annotations

import asyncio
import textwrap
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar

from harness import START
from textual.pilot import Pilot

from tui_sched.config import SchedulerConfig
from tui_sched.engine.bus import EventBus
from tui_sched.engine.clock import Clock, FakeClock
from tui_sched.engine.host import EngineHost
from tui_sched.engine.scheduler import Engine
from tui_sched.engine.session import Session
from tui_sched.reload.loader import load_folder
from tui_sched.store.base import RunStore
from tui_sched.store.sqlite import SqliteRunStore
from tui_sched.tui.app import SchedulerApp
from tui_sched.tui.screens.main import MainScreen
from tui_sched.tui.widgets.task_table import TaskTable

T = TypeVar("T")

HEADER = "from tui_sched import App\nfrom tui_sched.args import Session, TerminationFlag\n\napp = App()\n"

#: Forced-only tasks for key tests: one that succeeds, one that fails, one that blocks.
KEY_TASKS = '''
@app.task()
def hello():
    return 42

@app.task()
def boom():
    raise ValueError("boom: the upstream is down")

@app.task("every 1 hour")
def hourly():
    return "tick"

@app.task()
def sleeper(stop=TerminationFlag()):
    stop.wait(30)
'''


def write_tasks(folder: Path, body: str = KEY_TASKS, name: str = "keys.py") -> Path:
    """Write a task module (the folder is created owner-writable only)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o755)
    path = folder / name
    path.write_text(HEADER + textwrap.dedent(body))
    path.chmod(0o644)
    return path


def make_host(folder: Path, state: Path, clock: Clock | None = None,
              **config: object) -> EngineHost:
    """An ``EngineHost`` over ``folder`` with a SQLite store in ``state`` and a fake clock."""
    state.mkdir(parents=True, exist_ok=True)

    def build() -> tuple[Session, RunStore]:
        report = load_folder(folder)
        assert not report.errors, [str(e) for e in report.errors]
        return report.session, SqliteRunStore(state / "history.sqlite3")

    config.setdefault("timezone", "UTC")
    config.setdefault("shutdown_timeout", 5.0)
    config.setdefault("termination_grace", 1.0)
    return EngineHost(build, config=SchedulerConfig(**config),  # type: ignore[arg-type]
                      bus=EventBus(), clock=clock or FakeClock(START))


def make_app(host: EngineHost, **kwargs: object) -> SchedulerApp:
    """The app with stable header labels (so screens do not depend on tmp paths)."""
    kwargs.setdefault("store_path", "state/history.sqlite3")
    return SchedulerApp(host, tasks_dir="tasks", **kwargs)  # type: ignore[arg-type]


async def until(pilot: Pilot[object], pred: Callable[[], object], what: str,
                timeout: float = 5.0) -> None:
    """Let the app run until ``pred()`` holds, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def resolved(fut: Future[T], timeout: float = 5.0) -> T:
    """Await an engine future without blocking the app's loop."""
    return await asyncio.wait_for(asyncio.wrap_future(fut), timeout)


def main_screen(app: SchedulerApp) -> MainScreen:
    return app.main


def table(app: SchedulerApp) -> TaskTable:
    return app.main.query_one(TaskTable)


def row_text(app: SchedulerApp, task: str) -> str:
    """The plain text of ``task``'s row (what the operator reads)."""
    t = table(app)
    return " ".join(str(c) for c in t.get_row(task))


async def ready(pilot: Pilot[object], app: SchedulerApp, rows: int) -> Engine:
    """Wait until the engine runs and the table shows ``rows`` rows."""
    await until(pilot, lambda: app.host.engine is not None and app.host.engine.ready.is_set(),
                "the engine")
    await until(pilot, lambda: table(app).row_count == rows, f"{rows} rows")
    engine = app.host.engine
    assert engine is not None
    return engine


async def select(pilot: Pilot[object], app: SchedulerApp, task: str) -> None:
    """Move the table's cursor to ``task``."""
    t = table(app)
    t.move_cursor(row=t.get_row_index(task))
    await until(pilot, lambda: t.selected == task, f"{task} selected")


def stop_host(host: EngineHost) -> None:
    """Shut the host down after a test (force: nothing may outlive the test)."""
    host.shutdown(force=True)
    assert host.join(15), "the engine did not stop"


Scenario = Callable[[Pilot[object], SchedulerApp], Awaitable[None]]


def run_app(host: EngineHost, scenario: Scenario, size: tuple[int, int] = (120, 40),
            **kwargs: object) -> SchedulerApp:
    """Run ``scenario`` against a fresh app on ``host``; always stops the host."""
    app = make_app(host, **kwargs)

    async def go() -> None:
        async with app.run_test(size=size) as pilot:
            await scenario(pilot, app)  # type: ignore[arg-type]

    try:
        asyncio.run(go())
    finally:
        stop_host(host)
    return app
