"""Headless running: log lines to stdout, graceful shutdown on SIGINT/SIGTERM/SIGHUP."""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tui_sched.engine import events as ev
from tui_sched.engine.bus import EventBus
from tui_sched.engine.host import Builder, EngineHost
from tui_sched.engine.timezone import resolve_timezone
from tui_sched.executors.output import OutputCapture
from tui_sched.reload.events import ReloadWarning, WatchStatus
from tui_sched.statedir import HISTORY_FILE, InstanceLock
from tui_sched.store.base import RunStore

if TYPE_CHECKING:
    from tui_sched.app import App
    from tui_sched.config import SchedulerConfig


class LinePrinter:
    """Turns engine events into one log line each."""

    def __init__(self, out: TextIO | None = None, tz: tzinfo | None = None) -> None:
        self._out = out
        self._tz = tz
        self._lock = threading.Lock()

    def _stamp(self, at: float) -> str:
        return datetime.fromtimestamp(at, self._tz).strftime("%Y-%m-%d %H:%M:%S")

    def format(self, e: ev.Event) -> str | None:
        """The log line for an event (``None``: not logged)."""
        if isinstance(e, ev.LogLine):
            return f"{e.task} | {e.text}"
        if isinstance(e, ev.RunStarted):
            return f"{e.run.task}: started ({e.run.trigger}, run {e.run.id})"
        if isinstance(e, ev.RunRecorded):
            return f"{e.run.task}: {e.run.outcome}: {e.run.error or ''}".rstrip(": ")
        if isinstance(e, ev.RunTerminating):
            return f"{e.run.task}: terminating ({e.reason})"
        if isinstance(e, ev.RunFinished):
            r = e.run
            line = f"{r.task}: {r.outcome} in {r.duration or 0:.3f} s"
            if r.error:
                line += f": {r.error.splitlines()[0] if r.error.strip() else r.error}"
            return line
        if isinstance(e, ev.SchedulerStarted):
            return f"scheduler started with {e.tasks} task(s)"
        if isinstance(e, ev.SchedulerStopping):
            what = "restarting" if e.restart else "shutting down"
            return f"scheduler {what}; waiting for {e.running} running run(s)"
        if isinstance(e, ev.SchedulerStopped):
            return "scheduler stopped" + (" (restarting)" if e.restart else "")
        if isinstance(e, ev.RunsRecovered):
            names = ", ".join(sorted({r.task for r in e.runs}))
            return f"closed {len(e.runs)} run(s) left open by an unclean stop as crash: {names}"
        if isinstance(e, ev.TaskChanged):
            return f"{e.task}: {e.change}"
        if isinstance(e, ev.EngineError):
            return f"error: {e.message}"
        return _reload_line(e)

    def __call__(self, e: ev.Event) -> None:
        line = self.format(e)
        if line is None:
            return
        out = self._out or OutputCapture.real_stdout()
        with self._lock:
            out.write(f"{self._stamp(e.at)} {line}\n")
            out.flush()


def _short(path: str) -> str:
    """``path`` relative to the working directory when it is below it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _reload_line(e: ev.Event) -> str | None:
    """Log lines of hot reloads (``ModuleLoaded``, ``ModuleFailed``, reload events)."""
    if isinstance(e, ev.ModuleLoaded):
        parts = [f"{what} {', '.join(names)}" for what, names in (
            ("added", e.added), ("removed", e.removed), ("changed", e.changed)) if names]
        return f"module {_short(e.path)} reloaded: {'; '.join(parts) or 'no task changes'}"
    if isinstance(e, ev.ModuleFailed):
        where = _short(e.path) + (f":{e.line}" if e.line else "")
        line = f"module {where} failed to load: {e.error}"
        if e.traceback:
            line += "\n" + "\n".join(f"    {t}" for t in e.traceback.rstrip().splitlines())
        return line
    if isinstance(e, ReloadWarning):
        return f"module {_short(e.path)}: warning: {e.message}"
    if isinstance(e, WatchStatus):
        return f"reload: {e.message}"
    return None


def install_signal_handlers(host: EngineHost) -> None:
    """First SIGINT/SIGTERM/SIGHUP: graceful shutdown; the second: terminate runs now."""
    count = 0

    def handler(signum: int, frame: object) -> None:
        nonlocal count
        count += 1
        host.shutdown(force=count > 1)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def serve(host: EngineHost) -> int:
    """Run the host until it stops, handling signals when on the main thread."""
    if threading.current_thread() is threading.main_thread():
        install_signal_handlers(host)
    host.start()
    while not host.join(timeout=1.0):
        pass
    if host.error is not None:
        traceback.print_exception(host.error, file=sys.stderr)
        return 1
    return 0


def open_store(state_dir: Path | None) -> RunStore:
    """SQLite history in ``state_dir`` (in memory when it is ``None``), wrapped so that a
    failing file never stops the scheduler. Problems opening it are reported through the
    engine once it starts."""
    from tui_sched.store.memory import MemoryRunStore
    from tui_sched.store.resilient import ResilientStore, open_history

    if state_dir is None:
        return MemoryRunStore()
    notes: list[str] = []
    store = ResilientStore(open_history(state_dir / HISTORY_FILE, notes.append))
    store.pending_notes = notes
    return store


def run_app(app: App) -> None:
    """``app.run()``: run a single script's tasks headless."""
    lock = InstanceLock(app.state_dir) if app.state_dir is not None else None
    if lock is not None:
        lock.acquire()
    memory_store: RunStore | None = None
    if app.state_dir is None:
        memory_store = open_store(None)  # kept across in-place restarts

    def build() -> tuple[object, RunStore]:
        store = memory_store if memory_store is not None else open_store(app.state_dir)
        return app.session, store

    try:
        code = run_headless(build, app.config, state_dir=app.state_dir)  # type: ignore[arg-type]
    finally:
        if lock is not None:
            lock.release()
    if code:
        raise SystemExit(code)


def run_headless(build: Builder, config: SchedulerConfig, bus: EventBus | None = None,
                 state_dir: Path | None = None) -> int:
    """Run headless with a line printer on stdout; returns the exit code. With a
    ``state_dir`` (whose instance lock the caller holds), serve its control socket."""
    from tui_sched.control.server import serving

    bus = bus or EventBus()
    bus.subscribe(LinePrinter(tz=resolve_timezone(config.timezone)))
    host = EngineHost(build, config=config, bus=bus)
    with serving(host, state_dir):
        return serve(host)
