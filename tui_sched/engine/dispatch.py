"""How a task's runs are carried out: its executor and execution mode, its arguments, and
the call itself (blocking for ``main``, awaited for the rest)."""

from __future__ import annotations

import asyncio

from tui_sched.engine.arguments import ArgumentResolver
from tui_sched.engine.blockwatch import BlockWatch
from tui_sched.engine.session import Session
from tui_sched.executors import REMOTE_EXECUTIONS, Executor, Job, JobResult
from tui_sched.tasks.task import Task


class Dispatcher:
    """Carries out runs for the engine.

    Args:
        session: Where arguments and the default execution mode come from.
        executors: Executor per executor key.

    Attributes:
        blockwatch: Commits history while a ``main`` run holds the loop (set while the
            engine serves).
    """

    def __init__(self, session: Session, executors: dict[str, Executor]) -> None:
        self._session = session
        self.executors = executors
        self._args = ArgumentResolver(session)
        # Task name -> (task, options, target, default execution, executor key, execution).
        self._plans: dict[str, tuple[Task, object, object, str, str, str]] = {}
        self.blockwatch: BlockWatch | None = None

    def plan(self, task: Task) -> tuple[Executor, str]:
        """The executor and the execution mode of ``task``'s runs."""
        key, execution = self._plan_of(task)
        return self.executors[key], execution

    def _plan_of(self, task: Task) -> tuple[str, str]:
        """The executor key and the execution mode of ``task``'s runs, worked out once
        per version of the task (changing an option or the target replaces it as a
        whole): they are read on every run. (The executor itself is made at the first
        run that needs it.)"""
        default = self._session.default_execution
        plan = self._plans.get(task.name)
        if (plan is not None and plan[0] is task and plan[1] is task.options
                and plan[2] is task.target and plan[3] == default):
            return plan[4], plan[5]
        key, execution = task.executor_key, task.execution
        self._plans[task.name] = (task, task.options, task.target, default, key, execution)
        return key, execution

    def warm(self, task: Task) -> None:
        """Work out ``task``'s plan and plain arguments ahead of its first run, so that
        they are among what the engine freezes once started (see ``GcPolicy``): one pass
        less over them each full collection. (With 5,000 tasks, the plans and argument
        caches made at the first runs were most of what a full collection walked: 11 ms.)
        """
        try:
            if self._plan_of(task)[1] not in REMOTE_EXECUTIONS:
                self._args.plain_kwargs(task)
        except Exception:  # its first run reports what is wrong
            pass

    def forget(self, name: str) -> None:
        """The task is gone or replaced."""
        self._plans.pop(name, None)

    def prepare(self, job: Job, task: Task, execution: str) -> None:
        """Resolve the run's arguments (at dispatch, explicitly, from the session)."""
        if execution in REMOTE_EXECUTIONS:
            job.kwargs = self._args.process_kwargs(task)
            job.resources = task.options.dask_resources
            job.isolate = task.options.dask_isolate
        else:
            plain = self._args.plain_kwargs(task)
            if plain is not None:
                job.kwargs = plain  # read-only: the call unpacks it into its own dict
            else:
                job.bind = self._args.binder(task, lambda: job.flag)

    def run_blocking(self, job: Job, task: Task, executor: Executor,
                     execution: str) -> JobResult | None:
        """Run ``job`` right here (``main``); ``None`` if the executor could not."""
        try:
            self.prepare(job, task, execution)
        except Exception as exc:
            return JobResult.failed(exc)
        assert self.blockwatch is not None
        self.blockwatch.enter()
        try:
            return executor.run_sync(job)
        finally:
            self.blockwatch.exit()

    async def execute(self, job: Job, task: Task, executor: Executor,
                      execution: str) -> JobResult:
        """Run ``job`` on the loop; whatever goes wrong is the run's result."""
        try:
            self.prepare(job, task, execution)
            if not executor.blocks_loop:
                return await executor.execute(job)
            assert self.blockwatch is not None
            self.blockwatch.enter()
            try:
                return await executor.execute(job)
            finally:
                self.blockwatch.exit()
        except asyncio.CancelledError:
            return JobResult.terminated(job.stop_reason or "cancelled")
        except Exception as exc:  # argument resolution or an executor bug: still data
            return JobResult.failed(exc)
