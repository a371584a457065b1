"""Run the engine on its own thread, and restart it in place when asked."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import tzinfo

from tui_sched.config import SchedulerConfig
from tui_sched.engine.bus import EventBus
from tui_sched.engine.clock import Clock
from tui_sched.engine.events import EngineError
from tui_sched.engine.scheduler import Engine
from tui_sched.engine.session import Session
from tui_sched.store.base import Outcome, RunEnd, RunRecord, RunStore

Builder = Callable[[], tuple[Session, RunStore]]
"""Builds (or rebuilds, on restart) the session and opens the store."""


class EngineHost:
    """Owns the engine thread. ``session.restart()`` makes it stop the engine, call the
    builder again (reloading task modules, reopening the store) and start a new engine.

    Args:
        build: Returns the session and store for each (re)start.
        config: Scheduler settings.
        bus: Shared across restarts, so subscribers (the UI, the printer) stay attached.
        clock: Time source.
        tz: Time zone override.
    """

    def __init__(self, build: Builder, *, config: SchedulerConfig | None = None,
                 bus: EventBus | None = None, clock: Clock | None = None,
                 tz: tzinfo | None = None) -> None:
        self._build = build
        self.config = config or SchedulerConfig()
        self.bus = bus or EventBus()
        self._clock = clock
        self._tz = tz
        self.engine: Engine | None = None
        self.engine_changed = threading.Condition()
        self.restarts = 0
        self.error: BaseException | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._serve, name="tui-sched-engine", daemon=True)

    def start(self) -> None:
        """Start the engine thread."""
        self._thread.start()

    def _serve(self) -> None:
        try:
            while True:
                session, store = self._build()
                engine = Engine(session, store, clock=self._clock, config=self.config,
                                bus=self.bus, tz=self._tz)
                with self.engine_changed:
                    self.engine = engine
                    self.engine_changed.notify_all()
                if self._stop:
                    engine.request_stop()
                try:
                    restart = engine.run()
                finally:
                    store.close()
                if not restart or self._stop:
                    return
                self.restarts += 1
        except BaseException as exc:  # report, never die silently
            self.error = exc
            import time
            import traceback

            self.bus.publish(EngineError(time.time(), f"the engine stopped: {exc}",
                                         traceback.format_exc()))
        finally:
            with self.engine_changed:
                self.engine_changed.notify_all()

    def wait_engine(self, timeout: float | None = None) -> Engine | None:
        """The current engine once it is running (or ``None`` after ``timeout``)."""
        with self.engine_changed:
            self.engine_changed.wait_for(lambda: self.engine is not None or not self.alive,
                                         timeout)
        engine = self.engine
        if engine is not None:
            engine.ready.wait(timeout)
        return engine

    def shutdown(self, force: bool = False) -> None:
        """Stop for good (a second call forces termination of running runs)."""
        self._stop = True
        engine = self.engine
        if engine is not None:
            engine.request_stop(restart=False, force=force)

    def abandon(self, cause: str, timeout: float = 3.0) -> list[RunRecord]:
        """Record every run in progress as ``terminate`` and commit the history, from any
        thread, for a process about to exit without waiting for its engine (which does not
        answer: a task holds its loop). Gives up after ``timeout`` seconds: a history that
        hangs must not hold up the exit.

        Args:
            cause: Why, for the runs' error text (``"... within 5 s of a second SIGTERM"``).

        Returns:
            The runs that were in progress.
        """
        engine = self.engine
        if engine is None or engine.done.is_set():
            return []
        runs = engine.running_runs()
        store, at = engine.store, engine.clock.time()
        ends = [RunEnd(at, Outcome.TERMINATE, self._abandon_reason(run, cause)) for run in runs]

        def record() -> None:
            for run, end in zip(runs, ends, strict=True):
                try:
                    store.finish_run(run.id, end)
                except Exception:  # the other runs and the commit still count
                    pass
            store.close()  # commits

        writer = threading.Thread(target=record, name="tui-sched-abandon", daemon=True)
        writer.start()
        writer.join(timeout)
        return runs

    def _abandon_reason(self, run: RunRecord, cause: str) -> str:
        engine = self.engine
        try:
            execution = engine.session[run.task].execution if engine is not None else ""
        except KeyError:
            execution = ""
        if execution in ("main", "async"):
            # Nothing else holds the loop for long: this run is why the engine is stuck.
            return (f"{cause}: this {execution} run held the scheduler loop (it must return "
                    "or await for the scheduler to act), so it was abandoned")
        return f"{cause}; the run was abandoned when the scheduler exited"

    @property
    def alive(self) -> bool:
        """Whether the engine thread still runs."""
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the engine thread to end; ``True`` if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()
