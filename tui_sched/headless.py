"""Headless running: log lines to stdout, graceful shutdown on SIGINT/SIGTERM/SIGHUP."""

from __future__ import annotations

import math
import os
import select
import signal
import sys
import threading
import time
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
from tui_sched.tracebacks import FULL_ENV, user_traceback

if TYPE_CHECKING:
    from tui_sched.app import App
    from tui_sched.config import SchedulerConfig


#: From about this fraction of a second on, ``datetime.fromtimestamp`` may round up to the
#: next second (it keeps microseconds, rounded half to even): those are not cached.
_ROUNDS_UP = 0.999999


class LinePrinter:
    """Turns engine events into one log line each."""

    def __init__(self, out: TextIO | None = None, tz: tzinfo | None = None) -> None:
        self._out = out
        self._tz = tz
        self._lock = threading.Lock()
        # (whole second, its stamp): a busy scheduler logs many lines a second, and a
        # strftime per line showed in its profile (issue 23). One tuple, replaced whole,
        # so threads need no lock to read it.
        self._last_stamp: tuple[int, str] = (-1, "")

    def _stamp(self, at: float) -> str:
        second = math.floor(at)
        cached_second, text = self._last_stamp
        if second == cached_second and at - second < _ROUNDS_UP:
            return text
        text = datetime.fromtimestamp(at, self._tz).strftime("%Y-%m-%d %H:%M:%S")
        if at - second < _ROUNDS_UP:
            self._last_stamp = (second, text)
        return text

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
            tb = e.traceback if os.environ.get(FULL_ENV) else user_traceback(
                e.traceback, how=f"{FULL_ENV}=1 shows them")[0]
            line += "\n" + "\n".join(f"    {t}" for t in tb.rstrip().splitlines())
        return line
    if isinstance(e, ReloadWarning):
        return f"module {_short(e.path)}: warning: {e.message}"
    if isinstance(e, WatchStatus):
        return f"reload: {e.message}"
    return None


class StopSignals:
    """SIGINT/SIGTERM/SIGHUP: the first stops gracefully, the second terminates running
    runs, and either has a deadline that does not depend on the scheduler loop.

    The engine acts on a stop request on its event loop, which a task can hold (a
    CPU-bound ``main`` or ``async`` task never gives it back). The handlers therefore
    only ask, and ``serve``'s main thread, which the loop never blocks, keeps the
    deadline: ``shutdown_timeout + termination_grace + 3 s`` after the first signal,
    ``termination_grace + 3 s`` after the second (a healthy stop takes at most the grace
    and a moment). Past it, the runs in progress are recorded as terminated, the history
    is committed and the process exits with ``128 + signal number``.

    The main thread keeps the deadline, asleep until something happens, so an idle
    scheduler's main thread never wakes. It sleeps in ``select`` on a pipe that Python's
    own signal handler writes to (``signal.set_wakeup_fd``), and that a thread joining
    the engine writes to when the engine ends. The pipe matters: Linux hands a signal
    sent to the process to any one of its threads, and Python runs the handler on the
    main thread only, so a main thread asleep in a call the signal does not interrupt
    (a ``join``) would not run it until something else woke it.
    """

    MARGIN = 3.0
    """Seconds past the stop's own bound before it is taken to be stuck."""

    def __init__(self, host: EngineHost, out_fd: int = 1) -> None:
        self._host = host
        self._out_fd = out_fd
        self._tz = resolve_timezone(host.config.timezone)
        self.count = 0
        self.signum = 0
        self.deadline: float | None = None
        """``time.monotonic()`` after which the process exits without the engine."""
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)

    def install(self) -> None:
        """Handle the stop signals (main thread only)."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._handle)
        signal.set_wakeup_fd(self._wake_w)

    def _handle(self, signum: int, frame: object) -> None:
        self.count += 1
        self.signum = signum
        config = self._host.config
        now = time.monotonic()
        bound = config.termination_grace + self.MARGIN
        name = signal.Signals(signum).name
        if self.count == 1:
            bound += config.shutdown_timeout
            self._say(f"received {name}: shutting down (a second signal terminates running "
                      f"runs; exiting within {bound:g} s in any case)")
        else:
            self._say(f"received {name} again: terminating running runs "
                      f"(exiting within {bound:g} s in any case)")
        self.deadline = min(self.deadline or now + bound, now + bound)
        self._host.shutdown(force=self.count > 1)

    def wait(self) -> None:
        """Wait (main thread) until the engine thread has ended, running the handlers as
        signals come; past a stop's deadline, end the process here (``os._exit``: the
        engine thread is stuck, and an orderly interpreter exit could wait on it or on
        the threads it holds)."""

        def join() -> None:
            self._host.join()
            os.write(self._wake_w, b"\0")

        threading.Thread(target=join, name="tui-sched-engine-join", daemon=True).start()
        while not self._host.join(timeout=0):
            deadline = self.deadline
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            if select.select([self._wake_r], [], [], timeout)[0]:
                # A signal (its handler runs as this returns) or the engine's end.
                os.read(self._wake_r, 512)
            elif self.deadline is not None and time.monotonic() >= self.deadline:
                # (No flush of sys.stdout: the printer flushes every line, and a flush
                # could wait on the stream's lock held by the stuck thread.)
                os._exit(self.give_up())

    def exit_code(self) -> int:
        """The exit code of a stop that did not finish in time (as if killed by it)."""
        return 128 + self.signum

    def give_up(self) -> int:
        """Record what the stuck engine cannot (its runs in progress, as terminated),
        commit the history, say so, and return the exit code."""
        name = signal.Signals(self.signum).name
        again = " a second" if self.count > 1 else ""
        cause = f"the scheduler did not stop in time after{again} {name}"
        runs = self._host.abandon(cause)
        names = ", ".join(f"{r.task} (run {r.id})" for r in runs) or "none"
        self._say(f"error: {cause}; exiting without waiting for it; runs recorded as "
                  f"terminated: {names}")
        return self.exit_code()

    def _say(self, text: str) -> None:
        # Straight to the file descriptor: from a signal handler, and while the engine
        # thread may hold the printer's lock, nothing here may wait for a lock.
        stamp = datetime.now(self._tz).strftime("%Y-%m-%d %H:%M:%S")
        try:
            os.write(self._out_fd, f"{stamp} {text}\n".encode(errors="replace"))
        except OSError:
            pass


def install_signal_handlers(host: EngineHost) -> StopSignals:
    """First SIGINT/SIGTERM/SIGHUP: graceful shutdown; the second: terminate runs now."""
    signals = StopSignals(host)
    signals.install()
    return signals


def serve(host: EngineHost) -> int:
    """Run the host until it stops, handling signals when on the main thread (a stop
    that overruns its deadline ends the process: ``StopSignals``)."""
    if threading.current_thread() is threading.main_thread():
        signals = install_signal_handlers(host)
        host.start()
        signals.wait()
    else:
        host.start()
        host.join()
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
    state = app.state_dir
    lock = InstanceLock(state) if state is not None else None
    if lock is not None and state is not None:
        lock.acquire()
        from tui_sched.executors import children

        children.take_over(state, lambda line: print(f"tui-sched: {line}", file=sys.stderr),
                           app.config.termination_grace)
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
