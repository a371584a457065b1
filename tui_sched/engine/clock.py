"""The clock the engine reads. Injected so that tests tick time instead of sleeping."""

from __future__ import annotations

import asyncio
import ctypes
import sys
import threading
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime

#: How much of a wait ``SystemClock`` does as a precise blocking sleep (seconds).
_FINE_SLEEP = 0.0015
#: How early ``SystemClock`` sets the event loop's timer before a deadline (seconds): it
#: fires up to a millisecond late by design (epoll) and, after a long sleep, measured up to
#: 3 ms late here; the rest is a precise sleep.
_TIMER_EARLY = 0.004
#: The longest ``SystemClock`` keeps the event loop from running between two turns.
_MAX_HOLD = 0.005
#: The last stretch of a precise wait that is spun instead of slept (seconds): a sleep
#: wakes up to 100 us late with the default 50 us of timer slack ...
_SPIN = 0.0001
#: ... and within about 30 us (p90; 25 us p50) once the engine thread has asked Linux for
#: none, so then nothing is spun. A train of ``every`` tasks keeps the spacing of its
#: slowest round, so after one slow round every later round waits a few microseconds
#: before most starts: spun (40 us at most each), that was 20-28 ms of CPU per round at
#: 5,000 tasks, about a sixth of the engine's; slept, it is none, and an overshoot is
#: made up over the next starts of the train, which are due by then. (Issue 7's note
#: has the figures: 13 interleaved pairs of ``bench/child.py`` runs, with and without
#: the spin, showed no change in lateness or keep-up.)
_SPIN_TIGHT = 0.0
_PR_SET_TIMERSLACK = 29


class Clock(ABC):
    """Source of the current time and of waiting."""

    @abstractmethod
    def time(self) -> float:
        """Seconds since the epoch (UTC)."""

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)

    @abstractmethod
    async def wait(self, deadline: float | None, wake: asyncio.Event,
                   precise: bool = True) -> None:
        """Return when ``deadline`` (epoch seconds) is reached or ``wake`` is set.

        ``precise=False``: the deadline is housekeeping (a commit, the heartbeat, the
        wall-clock re-check), not a task's due, and may be met a millisecond late for
        one wake-up less.
        """

    def attach(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> None:  # noqa: B027
        """Called by the engine so the clock can wake it (fake clocks do)."""

    def hold(self, deadline: float) -> float | None:
        """Wait for ``deadline`` right here, without giving the event loop a turn, if it
        is close enough to be worth it.

        The engine uses this to take tasks that fall due one right after the other
        within one turn of the loop. The default never waits: time that does not pass
        by itself (tests) is only ever reached through ``wait``.

        Returns:
            The time now (as ``time()``) if ``deadline`` has been reached, else ``None``
            (the caller then reads no clock again: a call less per wake-up).
        """
        now = self.time()
        return now if deadline <= now else None


class SystemClock(Clock):
    """Wall-clock time; waiting is a real sleep.

    Args:
        max_hold: The longest ``hold`` keeps the event loop from having a turn (seconds).
    """

    def __init__(self, max_hold: float = _MAX_HOLD) -> None:
        self._max_hold = max_hold
        self._turn = time.monotonic()  # when the event loop last had a turn (monotonic)
        self._spin = _SPIN

    def attach(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> None:
        # On the engine's thread: its precise waits then need not spin.
        if tighten_timer_slack():
            self._spin = _SPIN_TIGHT

    def time(self) -> float:
        return time.time()

    def hold(self, deadline: float) -> float | None:
        now = time.time()
        timeout = deadline - now
        if timeout <= 0:
            return now
        if timeout <= _FINE_SLEEP and time.monotonic() - self._turn < self._max_hold:
            # Shorter than the loop's timer resolution: sleep precisely right here. The
            # loop still gets a turn at least every ``max_hold`` (async and thread runs
            # report back through it).
            return _sleep_until(deadline, self._spin)
        return None

    async def wait(self, deadline: float | None, wake: asyncio.Event,
                   precise: bool = True) -> None:
        if wake.is_set():
            return
        if deadline is None:
            await wake.wait()
            return
        if not precise:
            handle = asyncio.get_running_loop().call_later(
                max(0.0, deadline - time.time()), wake.set)
            try:
                await wake.wait()
            finally:
                handle.cancel()
                self._turn = time.monotonic()
            return
        if self.hold(deadline) is not None:
            return
        # The event loop sleeps in whole milliseconds, rounded up (epoll), so a timer
        # fires up to a millisecond late, and every start due then is late with it (and,
        # for `every`, stays late: the next start counts from this one). So the timer is
        # set a little early and the last stretch is a precise sleep: at most
        # ``_TIMER_EARLY`` of blocking, only when nothing else woke the engine.
        fired = False

        def ring() -> None:
            nonlocal fired
            fired = True
            wake.set()

        # A timer that sets the event: cheaper than wait_for, which wraps a task.
        timeout = deadline - time.time()
        handle = asyncio.get_running_loop().call_later(max(0.0, timeout - _TIMER_EARLY), ring)
        try:
            await wake.wait()
        finally:
            handle.cancel()
            self._turn = time.monotonic()
        if fired:
            _sleep_until(min(deadline, time.time() + _TIMER_EARLY), self._spin)


def tighten_timer_slack() -> bool:
    """Ask Linux to wake this thread's timed sleeps on time rather than up to 50 us late
    (``PR_SET_TIMERSLACK``, what systemd's ``TimerSlackNSec=`` sets for a service).

    Linux lets a thread's sleeps end up to its timer slack late, so that wake-ups can
    be merged; the engine would rather spin less. Affects only the calling thread.

    Returns:
        Whether the slack is now 1 ns (``False`` on other systems, or if refused).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        return int(ctypes.CDLL(None).prctl(_PR_SET_TIMERSLACK, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _sleep_until(deadline: float, spin: float = _SPIN) -> float:
    """Block until ``deadline`` (epoch seconds), to within a few microseconds.

    A blocking sleep wakes late (timer slack, the hypervisor's wake-up: 75 us median
    here with the default slack, 25 us with none), and in a train of ``every`` tasks due
    one after the other each such overshoot delays every later start in the train, and
    with `every` keeps them late (the next start counts from the late one). So the
    sleep stops ``spin`` short and the rest is spun: at most that much CPU per wake-up,
    only for a wake-up that must be precise (none on the engine's thread on Linux, whose
    sleeps are on time without: see ``_SPIN_TIGHT``).

    Returns:
        The time reached (epoch seconds, at or just past ``deadline``).
    """
    rest = deadline - time.time()
    if rest > spin:
        time.sleep(rest - spin)
    now = time.time()
    while now < deadline:
        now = time.time()
    return now


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

    async def wait(self, deadline: float | None, wake: asyncio.Event,
                   precise: bool = True) -> None:
        # Time never passes by itself: only a wake (which advance() causes) returns.
        if deadline is not None and self.time() >= deadline:
            return
        await wake.wait()
