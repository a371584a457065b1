"""The commands the keys send, and ``wait`` to await their futures from the UI's loop.

Embedded, they are ``control.commands.Control`` (shared with the control socket's
server); attached, ``tui.remote.RemoteControl`` sends the same commands over the socket.
Both fit ``Commands``. No Textual here.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Protocol, TypeVar

from tui_sched.control.commands import Control, EngineGone, TaskNotFound
from tui_sched.engine.snapshot import TaskDetail
from tui_sched.store.base import RunRecord

T = TypeVar("T")

__all__ = ["Commands", "Control", "EngineGone", "Feed", "TaskNotFound", "wait"]

AnyFuture = Future[T] | asyncio.Future[T]


class Commands(Protocol):
    """What the screens ask of the scheduler (raising ``EngineGone`` when there is none,
    ``TaskNotFound`` for a task that is gone)."""

    shutdown_requested: bool

    def force_run(self, task: str) -> None: ...

    def toggle_disabled(self, task: str) -> bool: ...

    def is_running(self, task: str) -> bool: ...

    def terminate(self, task: str) -> None: ...

    def restart(self) -> None: ...

    def shutdown(self) -> bool: ...

    def detail(self, task: str) -> AnyFuture[TaskDetail | None]: ...

    def history(self, task: str | None, limit: int,
                before_id: int | None) -> AnyFuture[list[RunRecord]]: ...


class Feed(Protocol):
    """Where the main screen's events and snapshots come from (``tui.bridge.Bridge``
    embedded, ``tui.remote.RemoteFeed`` attached)."""

    selected: str | None

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def refresh(self) -> None: ...


async def wait(fut: AnyFuture[T], timeout: float = 5.0) -> T:
    """Await an engine future from the UI's event loop without blocking it.

    Raises:
        TimeoutError: The engine did not answer in time (it may be busy with a ``main``
            task or stopping).
    """
    return await asyncio.wait_for(asyncio.wrap_future(fut) if isinstance(fut, Future) else fut,
                                  timeout)
