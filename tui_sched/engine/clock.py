"""The clock the engine reads. Injected so that tests tick time instead of sleeping."""

from __future__ import annotations

import asyncio
import threading
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime


class Clock(ABC):
    """Source of the current time and of waiting."""

    @abstractmethod
    def time(self) -> float:
        """Seconds since the epoch (UTC)."""

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)

    @abstractmethod
    async def wait(self, deadline: float | None, wake: asyncio.Event) -> None:
        """Return when ``deadline`` (epoch seconds) is reached or ``wake`` is set."""

    def attach(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> None:  # noqa: B027
        """Called by the engine so the clock can wake it (fake clocks do)."""


class SystemClock(Clock):
    """Wall-clock time; waiting is a real sleep."""

    def time(self) -> float:
        return time.time()

    async def wait(self, deadline: float | None, wake: asyncio.Event) -> None:
        if wake.is_set():
            return
        if deadline is None:
            await wake.wait()
            return
        timeout = deadline - time.time()
        if timeout <= 0:
            return
        # A timer that sets the event: cheaper than wait_for, which wraps a task.
        handle = asyncio.get_running_loop().call_later(timeout, wake.set)
        try:
            await wake.wait()
        finally:
            handle.cancel()


class FakeClock(Clock):
    """A clock that only moves when told to. Safe to advance from any thread.

    Args:
        start: Initial epoch seconds or aware datetime.
    """

    def __init__(self, start: float | datetime = 1_700_000_000.0) -> None:
        self._t = start.timestamp() if isinstance(start, datetime) else float(start)
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def time(self) -> float:
        with self._lock:
            return self._t

    def set(self, t: float | datetime) -> None:
        """Jump to an absolute time (must not go backwards) and wake the engine."""
        value = t.timestamp() if isinstance(t, datetime) else float(t)
        with self._lock:
            if value < self._t:
                raise ValueError("a FakeClock does not go backwards")
            self._t = value
            waiters = list(self._waiters)
        for loop, ev in waiters:
            try:
                loop.call_soon_threadsafe(ev.set)
            except RuntimeError:  # loop closed
                pass

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds`` and wake the engine."""
        self.set(self.time() + seconds)

    def attach(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> None:
        with self._lock:
            self._waiters = [(lp, ev) for lp, ev in self._waiters if not lp.is_closed()]
            self._waiters.append((loop, wake))

    async def wait(self, deadline: float | None, wake: asyncio.Event) -> None:
        # Time never passes by itself: only a wake (which advance() causes) returns.
        if deadline is not None and self.time() >= deadline:
            return
        await wake.wait()
