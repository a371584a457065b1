"""The executor interface: one small class per execution mode behind one ABC."""

from __future__ import annotations

import asyncio
import threading
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tui_sched.executors.output import OutputSink
from tui_sched.executors.summary import summarise
from tui_sched.frozen import value
from tui_sched.store.base import Outcome
from tui_sched.tasks.targets import CodeTarget, FuncTarget, Target

_FLAG_LOCK = threading.Lock()


@dataclass(eq=False, slots=True)
class Job:
    """One run handed to an executor.

    Attributes:
        run_id: The run's id in the store.
        task: Task name.
        target: What to run.
        kwargs: Resolved keyword arguments.
        timeout: Seconds before the run is terminated (``None``: never).
        flag: The ``TerminationFlag`` the task may poll; set on termination.
        sink: Where output goes.
        grace: Seconds a terminated run gets to stop cooperatively before it is killed
            (processes) or abandoned (threads).
    """

    run_id: int
    task: str
    target: Target
    kwargs: dict[str, Any]
    timeout: float | None
    sink: OutputSink
    grace: float = 2.0
    stop_reason: str | None = None
    on_terminate: Callable[[str], None] | None = None
    """Told once when termination begins (the engine publishes ``RunTerminating``)."""
    bind: Callable[[Callable[..., Any]], dict[str, Any]] | None = None
    """Resolves a function's arguments at call time (in-process runs); ``kwargs`` if unset."""
    resources: dict[str, float] | None = None
    """Abstract resources the run needs on its cluster worker (``dask_resources``)."""
    isolate: bool = False
    """Run the call in a child process of its cluster worker (``dask_isolate``)."""
    _on_stop: Callable[[], None] | None = None
    _flag: threading.Event | None = None

    @property
    def flag(self) -> threading.Event:
        """The ``TerminationFlag``, made on first use (most runs never ask for it).

        Safe from any thread: the worker resolving ``TerminationFlag()`` and the engine
        terminating the run get the same event, set if termination came first.
        """
        flag = self._flag
        if flag is None:
            with _FLAG_LOCK:
                if self._flag is None:
                    self._flag = threading.Event()
                    if self.stop_reason is not None:
                        self._flag.set()
                flag = self._flag
        return flag


    def terminate(self, reason: str) -> None:
        """Ask the run to stop (engine thread only). Sets the termination flag."""
        first = self.stop_reason is None
        if first:
            self.stop_reason = reason
        self.flag.set()
        if first and self.on_terminate is not None:
            self.on_terminate(reason)
        if self._on_stop is not None:
            self._on_stop()


@value
class JobResult:
    """How a job ended.

    ``summary`` is the history's text for ``value``; executors whose runs end off the
    scheduler loop (threads, process workers) fill it in there (``with_summary``), so
    that summarising a large value never holds up scheduling.
    """

    outcome: Outcome
    value: Any = None
    error: str | None = None
    traceback: str | None = None
    summary: str | None = None
    ran_for: float | None = None
    """Seconds the call took where it ran, for a run that may wait after its dispatch
    before it begins (a cluster's queue); ``None``: it began when it was dispatched.
    See ``began``."""

    @classmethod
    def failed(cls, exc: BaseException) -> JobResult:
        """A ``fail`` result from an exception (any ``BaseException``: ``SystemExit``
        and ``KeyboardInterrupt`` raised by a task are its failures), with its traceback."""
        tb = "".join(traceback.format_exception(exc))
        message = str(exc)
        error = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        return cls(Outcome.FAIL, None, error, tb)

    def with_summary(self) -> JobResult:
        """This result with ``summary`` filled in (call it where the run ended)."""
        if self.value is None or self.summary is not None:
            return self
        return JobResult(self.outcome, self.value, self.error, self.traceback,
                         summarise(self.value), self.ran_for)

    def began(self, dispatched: float, end: float) -> float:
        """When the run began, for its history row: ``dispatched``, or for a run that
        reports ``ran_for``, ``end - ran_for`` (never before ``dispatched``).

        A duration measured where the call ran and subtracted from the end seen here
        needs one clock only: a cluster worker's wall clock may be off from ours by any
        amount, its durations are not. (The start comes out late by the time the result
        took to come back, milliseconds on a LAN; the duration is the call's own.)
        """
        if self.ran_for is None:
            return dispatched
        return min(end, max(dispatched, end - self.ran_for))

    def value_summary(self) -> str | None:
        """The history's text for ``value``: ``summary``, or made now (bounded)."""
        return self.summary if self.summary is not None else summarise(self.value)

    @classmethod
    def terminated(cls, reason: str) -> JobResult:
        """A ``terminate`` result."""
        return cls(Outcome.TERMINATE, None, reason)


class Inaction(Exception):
    """Raise from a task to record the run as ``inaction`` (it decided not to act)."""


class TaskTerminationException(Exception):
    """Raise from a task to record the run as ``terminate`` (e.g. after seeing its
    ``TerminationFlag`` set), as Rocketry's ``rocketry.exc.TaskTerminationException``."""


def call_target(job: Job) -> Any:
    """Run a Python target in the current thread (function, lazy function or code)."""
    target = job.target
    if isinstance(target, CodeTarget):
        return target.run()
    func: Callable[..., Any] = target.resolve()  # type: ignore[union-attr]
    bind = job.bind
    return func(**bind(func)) if bind is not None else func(**job.kwargs)


def run_job(job: Job) -> JobResult:
    """``result_of_call(call_target, job)`` in one frame: it is every inline run's path."""
    try:
        target = job.target
        func: Callable[..., Any]
        if type(target) is FuncTarget:
            func = target.func  # (what ``resolve`` returns, without the call)
        elif isinstance(target, CodeTarget):
            return JobResult(Outcome.SUCCESS, target.run())
        else:
            func = target.resolve()  # type: ignore[union-attr]
        bind = job.bind
        return JobResult(Outcome.SUCCESS,
                         func(**bind(func)) if bind is not None else func(**job.kwargs))
    except BaseException as exc:  # a task failure is data, whatever it raised
        return raised(exc)


def result_of_call(fn: Callable[..., Any], *args: Any) -> JobResult:
    """Call ``fn(*args)`` and turn what happens into a result (never raises)."""
    try:
        return JobResult(Outcome.SUCCESS, fn(*args))
    except BaseException as exc:  # a task failure is data, whatever it raised
        return raised(exc)


def raised(exc: BaseException) -> JobResult:
    """The result of a task call that raised ``exc``.

    Every ``BaseException`` is the task's failure, ``SystemExit``, ``KeyboardInterrupt``
    and ``GeneratorExit`` too: tasks run on the engine's threads, where the interpreter
    never raises them on its own (signals are handled on the main thread), so one of
    them here was raised by the task and must not stop the scheduler.
    """
    if isinstance(exc, Inaction):
        return JobResult(Outcome.INACTION)
    if isinstance(exc, TaskTerminationException):
        return JobResult.terminated(str(exc) or "the task terminated itself")
    return JobResult.failed(exc)


async def race(job: Job, work: asyncio.Future[Any]) -> str:
    """Wait for ``work``, a timeout or a termination request; say which came first.

    Returns:
        ``"done"``, ``"timeout"`` or ``"stopped"``.
    """
    # One future woken by whichever comes first: cheaper than asyncio.wait over a task
    # per run, which was a good part of a thread run's cost.
    loop = asyncio.get_running_loop()
    first: asyncio.Future[None] = loop.create_future()

    def wake(_: object = None) -> None:
        if not first.done():
            first.set_result(None)

    if job.stop_reason is None and not work.done():
        work.add_done_callback(wake)
        job._on_stop = wake
        timer = None if job.timeout is None else loop.call_later(job.timeout, wake)
        try:
            await first
        finally:
            job._on_stop = None
            work.remove_done_callback(wake)
            if timer is not None:
                timer.cancel()
    if job.stop_reason is not None:
        # Termination was requested: even a run that then returned (a cooperative
        # thread seeing its flag) ends as terminated.
        return "stopped"
    if work.done():
        return "done"
    job.terminate(timeout_reason(job))
    return "timeout"


def timeout_reason(job: Job) -> str:
    """The error text of a run that hit its timeout."""
    return f"timed out after {job.timeout:g} s"


def stopped_result(job: Job, how: str) -> JobResult:
    """The ``terminate`` result of a run that ``race`` stopped (timeout or request)."""
    return JobResult.terminated(timeout_reason(job) if how == "timeout" else job.stop_reason or "terminated")


class Executor(ABC):
    """Runs jobs of one execution mode."""

    blocks_loop: bool = False
    """Whether a run holds the scheduler loop until it returns (``main``)."""

    @abstractmethod
    async def execute(self, job: Job) -> JobResult:
        """Run ``job`` to completion, timeout or termination; never raise for task errors."""

    def run_sync(self, job: Job) -> JobResult | None:
        """Run ``job`` right here, synchronously, if this executor can (``main``);
        ``None`` means it must go through ``execute``."""
        return None

    starts_directly: bool = False
    """Whether ``start`` can run a job without a coroutine per run (``thread``)."""

    def start(self, job: Job, done: Callable[[JobResult, float], None],
              now: Callable[[], float]) -> None:
        """Start ``job`` and return at once (event loop thread, ``starts_directly`` only).

        Args:
            job: The run.
            done: Told once, on the event loop's thread, how the run ended and when
                (``now()`` when it returned, or when it was given up on).
            now: The scheduler's clock.
        """
        raise NotImplementedError(f"{type(self).__name__} has no direct start")

    async def aclose(self) -> None:  # noqa: B027 - most executors hold nothing
        """Release workers (called when the engine stops)."""
