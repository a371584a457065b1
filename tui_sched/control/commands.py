"""The operator's commands: the same session operations a metatask uses.

The keys of the embedded UI (``tui.control``) and the control socket (``control.server``)
both send them. Every method returns at once: session operations only set a flag and wake
the engine, and queries return a ``concurrent.futures.Future`` the caller awaits with a
timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from tui_sched.engine.host import EngineHost
from tui_sched.engine.scheduler import Engine
from tui_sched.engine.session import Session
from tui_sched.engine.snapshot import TaskDetail, build_detail
from tui_sched.errors import TaskNotFound
from tui_sched.store.base import RunRecord

T = TypeVar("T")


class EngineGone(RuntimeError):
    """No engine is running (it is restarting or has stopped)."""


class Control:
    """User intents turned into engine commands.

    Args:
        host: The engine host (its ``engine`` changes on restart, so it is read per call).
    """

    def __init__(self, host: EngineHost) -> None:
        self.host = host
        self.shutdown_requested = False
        """Set by the first ``shutdown()``; a second call forces termination."""

    def engine(self) -> Engine:
        """The running engine.

        Raises:
            EngineGone: There is none (restarting, stopped).
        """
        engine = self.host.engine
        if engine is None or engine.done.is_set():
            raise EngineGone("the scheduler is not running")
        return engine

    def _session(self) -> Session:
        return self.engine().session

    def check_task(self, task: str) -> None:
        """Raise ``TaskNotFound`` (with near names) unless ``task`` exists."""
        self._session()[task]

    def force_run(self, task: str) -> None:
        """``session[task].force_run = True``."""
        self._session()[task].force_run = True

    def toggle_disabled(self, task: str) -> bool:
        """Flip ``session[task].disabled`` (persisted by the engine); returns the new value."""
        t = self._session()[task]
        t.disabled = not t.disabled
        return t.disabled

    def set_disabled(self, task: str, disabled: bool) -> None:
        """``session[task].disabled = disabled`` (persisted by the engine)."""
        self._session()[task].disabled = disabled

    def is_running(self, task: str) -> bool:
        """Whether a run of ``task`` is in progress (a snapshot read)."""
        return any(r.task == task for r in self.engine().running_runs())

    def terminate(self, task: str) -> None:
        """Terminate the runs of ``task`` in progress."""
        self.engine().terminate(task)

    def restart(self) -> None:
        """``session.restart()``: stop, reload every module, reopen the store, start."""
        self._session().restart()

    def shutdown(self) -> bool:
        """Shut down; called again, terminates running runs at once.

        This is ``EngineHost.shutdown``: the same ``engine.request_stop`` that
        ``session.shutdown()`` makes, plus a mark on the host so that a restart already
        under way does not start the engine again. (Calling both would count as two
        requests, and a second request forces termination.)

        Returns:
            Whether this call forced termination.
        """
        force = self.shutdown_requested
        self.shutdown_requested = True
        self.host.shutdown(force=force)
        return force

    def call(self, fn: Callable[[Engine], T]) -> Future[T]:
        """Run ``fn(engine)`` on the engine thread."""
        engine = self.engine()
        return engine.call(lambda: fn(engine))

    def detail(self, task: str) -> Future[TaskDetail | None]:
        """The detail screen's options and condition tree (``None``: no such task)."""
        return self.call(lambda engine: build_detail(engine, task))

    def history(self, task: str | None, limit: int, before_id: int | None) -> Future[list[RunRecord]]:
        """A page of ``task``'s runs (every task's: ``None``), newest first, from the
        engine's store."""
        return self.engine().history(task, limit, before_id)


__all__ = ["Control", "EngineGone", "TaskNotFound"]
