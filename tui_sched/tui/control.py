"""The commands the keys send: the same session operations a metatask uses (no Textual).

Every method returns at once: session operations only set a flag and wake the engine,
and queries return a ``concurrent.futures.Future`` the caller awaits with a timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from tui_sched.engine.host import EngineHost
from tui_sched.engine.scheduler import Engine
from tui_sched.engine.session import Session
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

    def _engine(self) -> Engine:
        engine = self.host.engine
        if engine is None or engine.done.is_set():
            raise EngineGone("the scheduler is not running")
        return engine

    def _session(self) -> Session:
        return self._engine().session

    def force_run(self, task: str) -> None:
        """``session[task].force_run = True``."""
        self._session()[task].force_run = True

    def toggle_disabled(self, task: str) -> bool:
        """Flip ``session[task].disabled`` (persisted by the engine); returns the new value."""
        t = self._session()[task]
        t.disabled = not t.disabled
        return t.disabled

    def is_running(self, task: str) -> bool:
        """Whether a run of ``task`` is in progress (a snapshot read)."""
        return any(r.task == task for r in self._engine().running_runs())

    def terminate(self, task: str) -> None:
        """Terminate the runs of ``task`` in progress."""
        self._engine().terminate(task)

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
        engine = self._engine()
        return engine.call(lambda: fn(engine))

    def history(self, task: str, limit: int, before_id: int | None) -> Future[list[RunRecord]]:
        """A page of ``task``'s runs, newest first, from the engine's store."""
        return self._engine().history(task, limit, before_id)


__all__ = ["Control", "EngineGone", "TaskNotFound", "wait"]


async def wait(fut: Future[T], timeout: float = 5.0) -> T:
    """Await an engine future from the UI's event loop without blocking it.

    Raises:
        TimeoutError: The engine did not answer in time (it may be busy with a ``main``
            task or stopping).
    """
    import asyncio

    return await asyncio.wait_for(asyncio.wrap_future(fut), timeout)
