"""``thread`` executor: each run on a worker thread of a ``WorkerPool``.

A run that times out gets its ``TerminationFlag`` set and a grace period; a thread that
ignores the flag is abandoned (it is a daemon thread and is never reused while it runs),
so a hung task costs one thread, never the scheduler, and the pool gives the runs queued
behind it another thread.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from tui_sched.executors.base import (
    Executor,
    Job,
    JobResult,
    call_target,
    result_of_call,
    timeout_reason,
)
from tui_sched.executors.output import current_sink
from tui_sched.executors.threadpool import WorkerPool

log = logging.getLogger(__name__)


class _Inbox:
    """Results that worker threads hand back to one event loop, taken in batches: the
    loop is woken once for all the results that arrive before it gets to them, not once
    per run (each wake-up is a write to its self-pipe and a turn of the loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._items: list[tuple[_ThreadRun, JobResult, float]] = []

    def put(self, run: _ThreadRun, result: JobResult, end: float) -> None:
        """From a worker thread."""
        with self._lock:
            first = not self._items
            self._items.append((run, result, end))
        if first:
            try:
                self.loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # the loop is gone: the scheduler stopped
                pass

    def _drain(self) -> None:
        with self._lock:
            items, self._items = self._items, []
        for run, result, end in items:
            try:
                run.returned(result, end)
            except Exception:  # one bad delivery must not lose the others
                log.exception("delivering the result of run %s failed", run.job.run_id)


class _ThreadRun:
    """One run on a worker thread: the worker's side (``work``) and the event loop's
    side, its timeout, its termination (the flag, then a grace period, then the thread is
    abandoned) and its one result."""

    __slots__ = ("cancel", "done", "grace", "inbox", "job", "loop", "now", "settled", "timer")

    def __init__(self, job: Job, done: Callable[[JobResult, float], None],
                 now: Callable[[], float], inbox: _Inbox) -> None:
        self.job = job
        self.done = done
        self.now = now
        self.inbox = inbox
        self.loop = inbox.loop
        self.settled = False
        self.timer: asyncio.TimerHandle | None = None
        self.grace: asyncio.TimerHandle | None = None
        self.cancel: Callable[[], object] | None = None  # cancels a coroutine in the thread

    # == on the worker thread ==========================================================
    def work(self) -> None:
        """Call the task's function with its output captured, stamp the end and hand the
        result to the loop."""
        job = self.job
        if job.stop_reason is not None:
            # Terminated while it waited for a thread: its function never starts.
            result = JobResult.terminated(job.stop_reason)
        else:
            token = current_sink.set(job.sink)
            try:
                result = result_of_call(self._call)
            finally:
                current_sink.reset(token)
        end = self.now()
        # Summarised here, on the run's own thread: a large return value costs this
        # thread, not the scheduler loop.
        self.inbox.put(self, result.with_summary(), end)

    def _call(self) -> Any:
        value = call_target(self.job)
        if not inspect.isawaitable(value):
            return value
        # A coroutine function under execution="thread": run it on a private loop in
        # this thread, cancellable when the run is terminated.
        return asyncio.run(self._await(value))

    async def _await(self, value: Any) -> Any:
        task = asyncio.ensure_future(value)
        own_loop = asyncio.get_running_loop()
        self.cancel = lambda: own_loop.call_soon_threadsafe(task.cancel)
        if self.job.flag.is_set():
            task.cancel()
        return await task

    # == on the event loop =============================================================
    def timed_out(self) -> None:
        self.timer = None
        if not self.settled:
            self.job.terminate(timeout_reason(self.job))  # calls stopping()

    def stopping(self) -> None:
        """The run is being terminated (``Job.terminate``): its flag is set; give it the
        grace period to return."""
        if self.settled or self.grace is not None:
            return
        if self.cancel is not None:
            try:
                self.cancel()
            except RuntimeError:  # its loop already finished
                pass
        self.grace = self.loop.call_later(self.job.grace, self.abandon)

    def abandon(self) -> None:
        self.grace = None
        if not self.settled:
            reason = self.job.stop_reason or "terminated"
            self._settle(JobResult.terminated(
                f"{reason}; the thread ignored its termination flag and was abandoned"),
                self.now())

    def returned(self, result: JobResult, end: float) -> None:
        if self.settled:
            return  # abandoned: what it returned at last is no longer news
        if self.job.stop_reason is not None:
            # Termination was requested: even a run that then returned (a cooperative
            # thread seeing its flag) ends as terminated.
            result = JobResult.terminated(self.job.stop_reason)
        self._settle(result, end)

    def _settle(self, result: JobResult, end: float) -> None:
        self.settled = True
        self.job._on_stop = None
        for handle in (self.timer, self.grace):
            if handle is not None:
                handle.cancel()
        self.done(result, end)


class ThreadExecutor(Executor):
    """Runs plain functions on worker threads (the default for ``def`` tasks).

    A run costs the event loop no coroutine and no future: ``start`` hands it to the
    pool, a timer watches its timeout, and the worker hands the result back through an
    inbox that wakes the loop once for a batch of results.
    """

    starts_directly = True

    def __init__(self) -> None:
        self._pool = WorkerPool()
        self._inbox: _Inbox | None = None

    def start(self, job: Job, done: Callable[[JobResult, float], None],
              now: Callable[[], float]) -> None:
        loop = asyncio.get_running_loop()
        inbox = self._inbox
        if inbox is None or inbox.loop is not loop:  # a restarted engine has a new loop
            inbox = self._inbox = _Inbox(loop)
        run = _ThreadRun(job, done, now, inbox)
        # Submitted first: if that fails (no thread to be had), nothing of this run is
        # left behind. Its result can only be taken on this thread, after this returns.
        self._pool.submit(run.work)
        job._on_stop = run.stopping
        if job.timeout is not None:
            run.timer = loop.call_later(job.timeout, run.timed_out)
        if job.stop_reason is not None:  # terminated before it even started
            run.stopping()

    async def execute(self, job: Job) -> JobResult:
        loop = asyncio.get_running_loop()
        result: asyncio.Future[JobResult] = loop.create_future()

        def done(outcome: JobResult, _end: float) -> None:
            if not result.done():
                result.set_result(outcome)

        self.start(job, done, time.time)
        return await result

    async def aclose(self) -> None:
        self._pool.shutdown()
