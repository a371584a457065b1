"""``thread`` executor: each run on a worker thread from an elastic pool.

A run that times out gets its ``TerminationFlag`` set and a grace period; a thread that
ignores the flag is abandoned (it is a daemon thread and is never reused while it runs),
so a hung task costs one thread, never the scheduler.
"""

from __future__ import annotations

import asyncio
import inspect
import queue
import threading
from collections.abc import Callable
from typing import Any

from tui_sched.executors.base import (
    Executor,
    Job,
    JobResult,
    call_target,
    race,
    result_of_call,
    timeout_reason,
)
from tui_sched.executors.output import current_sink

WorkItem = Callable[[], None]


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
        self._queue.put(item)
        if start_new:
            threading.Thread(target=self._worker, name=f"tui-sched-run-{n}", daemon=True).start()

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


class ThreadExecutor(Executor):
    """Runs plain functions on worker threads (the default for ``def`` tasks)."""

    def __init__(self) -> None:
        self._pool = ElasticThreadPool()

    async def execute(self, job: Job) -> JobResult:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[JobResult] = loop.create_future()
        cancel: list[Callable[[], object]] = []  # cancels a coroutine running in the thread

        def settle(result: JobResult) -> None:
            if not done.done():
                done.set_result(result)

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
            try:
                loop.call_soon_threadsafe(settle, result)
            except RuntimeError:  # the loop is gone: the scheduler stopped
                pass

        self._pool.submit(work)
        how = await race(job, done)
        if how == "done":
            return done.result()
        job.flag.set()
        for fn in cancel:
            try:
                fn()
            except RuntimeError:  # its loop already finished
                pass
        try:
            # A cooperative task sees the flag and returns within the grace period.
            await asyncio.wait_for(asyncio.shield(done), job.grace)
        except TimeoutError:
            pass
        reason = timeout_reason(job) if how == "timeout" else job.stop_reason or "terminated"
        if not done.done():
            reason += "; the thread ignored its termination flag and was abandoned"
        return JobResult.terminated(reason)

    async def aclose(self) -> None:
        self._pool.shutdown()
