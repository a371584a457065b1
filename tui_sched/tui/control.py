"""The commands the keys send (``control.commands.Control``, shared with the control
socket), and ``wait`` to await their futures from the UI's loop (no Textual)."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import TypeVar

from tui_sched.control.commands import Control, EngineGone, TaskNotFound

T = TypeVar("T")

__all__ = ["Control", "EngineGone", "TaskNotFound", "wait"]


async def wait(fut: Future[T], timeout: float = 5.0) -> T:
    """Await an engine future from the UI's event loop without blocking it.

    Raises:
        TimeoutError: The engine did not answer in time (it may be busy with a ``main``
            task or stopping).
    """
    return await asyncio.wait_for(asyncio.wrap_future(fut), timeout)
