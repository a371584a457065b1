"""Test harness: an engine on its own thread with a fake clock, and ways to wait on it.

Tests wait on events (with a timeout) or on ``sync()``, never on sleeps.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime, tzinfo
from typing import Any

from tui_sched.config import SchedulerConfig
from tui_sched.engine.bus import EventBus
from tui_sched.engine.clock import Clock, FakeClock
from tui_sched.engine.events import Event, RunFinished, RunStarted
from tui_sched.engine.scheduler import Engine
from tui_sched.engine.session import Session
from tui_sched.store.base import RunRecord, RunStore
from tui_sched.store.memory import MemoryRunStore

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)  # a Monday


class EngineRunner:
    """Runs an ``Engine`` on a thread and records every event it publishes."""

    def __init__(
        self,
        session: Session,
        store: RunStore | None = None,
        clock: Clock | None = None,
        tz: tzinfo = UTC,
        **config: Any,
    ) -> None:
        self.session = session
        self.store = store if store is not None else MemoryRunStore()
        self.clock = clock if clock is not None else FakeClock(START)
        self.bus = EventBus()
        self.events: list[Event] = []
        self._cond = threading.Condition()
        self.bus.subscribe(self._record)
        config.setdefault("shutdown_timeout", 5.0)
        config.setdefault("termination_grace", 1.0)
        self.engine = Engine(session, self.store, clock=self.clock, bus=self.bus,
                             config=SchedulerConfig(**config), tz=tz)
        self.restart: bool | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.restart = self.engine.run()

    def _record(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def __enter__(self) -> EngineRunner:
        self.thread.start()
        assert self.engine.ready.wait(10), "engine did not start"
        self._wait_first_pass()
        return self

    def _wait_first_pass(self) -> None:
        """``ready`` is set before the first tick: wait for that tick's evaluation pass,
        or a test that moves the clock right away moves the first evaluation with it.
        Unless the pass is held up by a ``main`` run (on the engine's thread) that the
        test itself is to release."""
        first_pass = self.engine.call(lambda: None)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                first_pass.result(0.05)
                return
            except FutureTimeout:
                if any(self.session[run.task].execution == "main"
                       for run in self.engine.running_runs() if run.task in self.session):
                    return
        raise AssertionError("the engine's first evaluation pass did not end")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, force: bool = False) -> None:
        """Shut down and wait for the engine thread."""
        self.engine.request_stop(force=force)
        self.thread.join(20)
        assert not self.thread.is_alive(), "engine did not stop"

    @property
    def fake(self) -> FakeClock:
        assert isinstance(self.clock, FakeClock)
        return self.clock

    def advance(self, seconds: float) -> None:
        """Move the fake clock and wait until the engine has evaluated the new time."""
        self.fake.advance(seconds)
        self.sync()

    def sync(self) -> None:
        """Wait until the engine has run a full tick that started after this call."""
        for _ in range(2):
            self.engine.call(lambda: None).result(10)

    def wait_for(self, pred: Callable[[Event], bool], count: int = 1, timeout: float = 10.0) -> list[Event]:
        """Wait until ``count`` recorded events satisfy ``pred``; return them."""
        matched: list[Event] = []
        scanned = 0

        def enough() -> bool:
            nonlocal scanned
            new = self.events[scanned:]
            scanned += len(new)
            matched.extend(e for e in new if pred(e))
            return len(matched) >= count

        with self._cond:
            ok = self._cond.wait_for(enough, timeout)
        assert ok, f"timed out waiting for {count} event(s); got {len(matched)}: {self.events[-5:]}"
        return matched

    def finished(self, task: str, count: int = 1, timeout: float = 10.0) -> list[RunRecord]:
        """Wait for ``count`` finished runs of ``task``; return their records."""
        events = self.wait_for(lambda e: isinstance(e, RunFinished) and e.run.task == task,
                               count, timeout)
        return [e.run for e in events if isinstance(e, RunFinished)]

    def starts(self, task: str) -> list[RunRecord]:
        """Runs of ``task`` started so far."""
        with self._cond:
            return [e.run for e in self.events if isinstance(e, RunStarted) and e.run.task == task]

    def finishes(self, task: str) -> list[RunRecord]:
        """Runs of ``task`` finished so far."""
        with self._cond:
            return [e.run for e in self.events if isinstance(e, RunFinished) and e.run.task == task]


class SleepingClock(FakeClock):
    """A fake clock on which the engine's waits take simulated time, as real sleeps do.

    ``run_for(seconds)`` lets that much time pass: each wait of the engine ends at its
    deadline and the clock jumps there (or ends early on a wake-up). Like the event
    loop's timers, a wait runs on a monotonic clock of its own: ``jump`` moves the wall
    clock (an NTP step, a suspend) without a timer noticing, so a wait that began before
    it ends when its monotonic time is up, early or late in wall-clock terms. Neither
    ``run_for`` nor ``jump`` wakes the engine.
    """

    def __init__(self, start: float | datetime = START) -> None:
        super().__init__(start)
        self.mono = 0.0
        self._limit = 0.0
        self._more: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._idle = threading.Condition()
        self._idle_at: float | None = None

    def jump(self, seconds: float) -> None:
        """Step the wall clock (either way) without waking anything."""
        with self._lock:
            self._t += seconds

    def run_for(self, seconds: float, timeout: float = 10.0) -> None:
        """Let ``seconds`` of time pass; return once the engine waits beyond them."""
        with self._idle:
            self._idle_at = None
        with self._lock:
            self._limit = self.mono + seconds
            limit, more, self._more = self._limit, self._more, None
        if more is not None:
            more[0].call_soon_threadsafe(more[1].set)
        with self._idle:
            ok = self._idle.wait_for(lambda: self._idle_at == limit, timeout)
        assert ok, "the engine did not reach the end of the span"

    async def wait(self, deadline: float | None, wake: asyncio.Event,
                   precise: bool = True) -> None:
        with self._lock:  # the timer is set once, on the monotonic clock
            timer = math.inf if deadline is None else self.mono + max(0.0, deadline - self._t)
        while not wake.is_set():
            with self._lock:
                step = min(timer, self._limit) - self.mono
                self.mono += step
                self._t += step
                limit = self._limit
                if timer > limit:
                    more = asyncio.Event()
                    self._more = (asyncio.get_running_loop(), more)
            if timer <= limit:
                return
            with self._idle:
                self._idle_at = limit
                self._idle.notify_all()
            waiters = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(more.wait())}
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
