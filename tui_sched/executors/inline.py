"""``main`` and ``async`` executors: runs on the scheduler's own event loop."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any

from tui_sched.executors.base import (
    Executor,
    Job,
    JobResult,
    race,
    raised,
    run_job,
    stopped_result,
    timeout_reason,
)
from tui_sched.executors.output import current_sink
from tui_sched.store.base import Outcome


class MainExecutor(Executor):
    """Runs the task inline on the scheduler loop, blocking scheduling while it runs.

    A plain function cannot be interrupted from the outside, so the timeout is checked
    when the run returns: a run that overran is recorded as ``terminate``.
    """

    blocks_loop = True

    def run_sync(self, job: Job) -> JobResult | None:
        """Call a plain function inline, at the moment the engine launches it (coroutine
        functions go through ``execute``, which awaits them)."""
        if getattr(job.target, "is_coroutine", False):
            return None
        token = current_sink.set(job.sink)
        timeout = job.timeout
        started = time.monotonic() if timeout is not None else 0.0
        try:
            result = run_job(job)
        finally:
            current_sink.reset(token)
        value = result.value
        if value is not None and result.outcome is Outcome.SUCCESS and inspect.isawaitable(value):
            close = getattr(result.value, "close", None)
            if close is not None:
                close()  # never awaited: say so instead of leaking a warning
            return JobResult(Outcome.FAIL, None, "the function returned an awaitable under "
                             "execution='main'; declare it with async def")
        if timeout is not None and time.monotonic() - started > timeout:
            return JobResult.terminated(
                f"{timeout_reason(job)} (main tasks cannot be interrupted; it ran to the end)"
            )
        return result

    async def execute(self, job: Job) -> JobResult:
        token = current_sink.set(job.sink)
        started = time.monotonic()
        try:
            result = run_job(job)
            if result.outcome is Outcome.SUCCESS and inspect.isawaitable(result.value):
                # An async function under execution="main": await it here.
                return await AsyncExecutor.await_with_limits(job, result.value)
        finally:
            current_sink.reset(token)
        if job.timeout is not None and time.monotonic() - started > job.timeout:
            return JobResult.terminated(
                f"{timeout_reason(job)} (main tasks cannot be interrupted; it ran to the end)"
            )
        return result


class AsyncExecutor(Executor):
    """Runs a coroutine as an asyncio task on the scheduler loop; cancelled on timeout."""

    async def execute(self, job: Job) -> JobResult:
        token = current_sink.set(job.sink)
        try:
            result = run_job(job)
        finally:
            current_sink.reset(token)
        if result.outcome is not Outcome.SUCCESS or not inspect.isawaitable(result.value):
            return result
        return await self.await_with_limits(job, result.value)

    @staticmethod
    async def await_with_limits(job: Job, awaitable: Any) -> JobResult:
        """Await a task's coroutine under the job's timeout and termination."""

        async def wrapped() -> JobResult:
            current_sink.set(job.sink)  # this asyncio task has its own context copy
            try:
                return JobResult(Outcome.SUCCESS, await awaitable)
            except asyncio.CancelledError:
                raise  # terminated (or cancelled itself): ``race`` tells which
            except BaseException as exc:
                # Caught inside the task: asyncio re-raises SystemExit and
                # KeyboardInterrupt out of the event loop, which would stop the
                # scheduler (and leave this run open).
                return raised(exc)

        work = asyncio.ensure_future(wrapped())
        how = await race(job, work)
        if how == "done":
            return work.result()  # (a task that cancelled itself raises CancelledError)
        work.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(work), job.grace)
        except BaseException:  # cancelled, timed out or raised while cancelling
            pass
        return stopped_result(job, how)
