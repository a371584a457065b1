"""``thread`` executor: each run on a worker thread from an elastic pool.

A run that times out gets its ``TerminationFlag`` set and a grace period; a thread that
ignores the flag is abandoned (it is a daemon thread and is never reused while it runs),
so a hung task costs one thread, never the scheduler.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
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

WorkItem = Callable[[], None]
log = logging.getLogger(__name__)


class ElasticThreadPool:
    """Idle threads wait for work; a new thread starts when none is idle.

    Unlike ``ThreadPoolExecutor`` it never queues work behind a hung thread.

    Args:
        idle_timeout: Seconds an idle thread waits for work before it exits.
    """

    def __init__(self, idle_timeout: float = 30.0) -> None:
        self._queue: queue.SimpleQueue[WorkItem | None] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()
        self._idle_timeout = idle_timeout
        self._count = 0

    def submit(self, item: WorkItem) -> None:
        """Run ``item`` on an idle thread, or on a new one."""
        with self._lock:
            start_new = self._idle == 0
            if not start_new:
                self._idle -= 1
            self._count += 1
            n = self._count
        if start_new:
            # Started before the item is queued: if no thread can be had, this raises
            # and nothing is left in the queue for a later worker to run unrecorded.
            threading.Thread(target=self._worker, name=f"tui-sched-run-{n}", daemon=True).start()
        self._queue.put(item)

    def _worker(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self._idle_timeout)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:
                        self._idle -= 1
                        return
                continue  # a submit counted on us: wait for its item
            if item is None:
                return
            item()
            with self._lock:
                self._idle += 1

    def shutdown(self) -> None:
        """Let idle threads exit."""
        with self._lock:
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._queue.put(None)


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
    """The event loop's side of one run on a worker thread: its timeout, its termination
    (the flag, then a grace period, then the thread is abandoned) and its one result."""

    __slots__ = ("cancel", "done", "grace", "job", "loop", "now", "settled", "timer")

    def __init__(self, job: Job, done: Callable[[JobResult, float], None],
                 now: Callable[[], float], loop: asyncio.AbstractEventLoop) -> None:
        self.job = job
        self.done = done
        self.now = now
        self.loop = loop
        self.settled = False
        self.timer: asyncio.TimerHandle | None = None
        self.grace: asyncio.TimerHandle | None = None
        self.cancel: list[Callable[[], object]] = []  # cancels a coroutine in the thread

    def timed_out(self) -> None:
        self.timer = None
        if not self.settled:
            self.job.terminate(timeout_reason(self.job))  # calls stopping()

    def stopping(self) -> None:
        """The run is being terminated (``Job.terminate``): its flag is set; give it the
        grace period to return."""
        if self.settled or self.grace is not None:
            return
        for fn in self.cancel:
            try:
                fn()
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
        self._pool = ElasticThreadPool()
        self._inbox: _Inbox | None = None

    def start(self, job: Job, done: Callable[[JobResult, float], None],
              now: Callable[[], float]) -> None:
        loop = asyncio.get_running_loop()
        inbox = self._inbox
        if inbox is None or inbox.loop is not loop:  # a restarted engine has a new loop
            inbox = self._inbox = _Inbox(loop)
        run = _ThreadRun(job, done, now, loop)
        cancel = run.cancel

        def run_in_thread() -> Any:
            value = call_target(job)
            if not inspect.isawaitable(value):
                return value

            # A coroutine function under execution="thread": run it on a private loop
            # in this thread, cancellable when the run is terminated.
            async def await_it() -> Any:
                task = asyncio.ensure_future(value)
                own_loop = asyncio.get_running_loop()
                cancel.append(lambda: own_loop.call_soon_threadsafe(task.cancel))
                if job.flag.is_set():
                    task.cancel()
                return await task

            return asyncio.run(await_it())

        def work() -> None:
            token = current_sink.set(job.sink)
            try:
                result = result_of_call(run_in_thread)
            finally:
                current_sink.reset(token)
            end = now()
            # Summarised here, on the run's own thread: a large return value costs this
            # thread, not the scheduler loop.
            inbox.put(run, result.with_summary(), end)

        # Submitted first: if that fails (no thread to be had), nothing of this run is
        # left behind. Its result can only be taken on this thread, after this returns.
        self._pool.submit(work)
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
