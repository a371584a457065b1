"""What a condition may read while it is evaluated: time, task status, session facts.

Conditions are pure: they read a ``Context`` and never reach for global state.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Protocol

from tui_sched.store.base import Outcome

#: How many finished runs per task the status index keeps in memory (for counts such as
#: ``failed.today >= 3``). Older runs are in the store.
RECENT_RUNS = 256

RecentRun = tuple[float, float, str]
"""A finished run in ``TaskStatus.recent``: ``(start, end, outcome)``, the outcome as its
plain string value (``Outcome`` members compare and hash equal to it). A tuple of floats
and plain strings is not tracked by the cyclic garbage collector, and a busy scheduler
keeps hundreds of these per task: as ``Outcome`` members (objects the collector tracks)
they made every full collection walk them all, a 20-60 ms pause with 5,000 tasks."""


@dataclass(slots=True)
class TaskStatus:
    """What the engine knows of one task's runs. Times are epoch seconds (UTC).

    Maintained by the engine on every run start and finish, and rebuilt from the store at
    start-up, so status conditions never scan history.

    Attributes:
        last_start: Latest start of a run.
        last_end: Latest end time of each outcome.
        running: Start times of the runs in progress.
        recent: The latest finished runs as ``(start, end, outcome value)``, oldest
            first (see ``RecentRun``).
    """

    last_start: float | None = None
    last_end: dict[Outcome, float] = field(default_factory=dict)
    running: list[float] = field(default_factory=list)
    recent: deque[RecentRun] = field(
        default_factory=lambda: deque(maxlen=RECENT_RUNS)
    )

    def last(self, outcome: Outcome) -> float | None:
        """Latest end time of a run with ``outcome``."""
        return self.last_end.get(outcome)

    def last_finish(self) -> float | None:
        """Latest end time of a run that finished in any way."""
        return max(self.last_end.values(), default=None)


class StatusView(Protocol):
    """Read access to the status of every task."""

    def status(self, task: str) -> TaskStatus:
        """The status of ``task`` (an empty one for a task that never ran)."""
        ...


class NoRuns:
    """A ``StatusView`` in which no task has ever run (``cond.observe()`` alone)."""

    def status(self, task: str) -> TaskStatus:
        return TaskStatus()


class Context:
    """Everything a condition may read during one evaluation.

    Args:
        now: The current instant, epoch seconds (UTC).
        tz: The session time zone; calendar conditions are evaluated in it.
        task: The task whose condition is evaluated (``None`` outside a task).
        status: The status index.
        scheduler_started: When the scheduler started (epoch seconds).
        cycles: How many scheduling cycles have run.
        params: Session parameters.
        env: The session's environment name (``env 'prod'``).
        custom: Functions registered with ``@app.cond``, by name.
        poll_interval: How often conditions that cannot predict change are re-checked.

    Attributes:
        task_since: When the engine first saw this version of ``task``, if that was after
            the scheduler started (created at run time, reloaded, given a new condition);
            ``None`` otherwise. A ``cron`` slot that fired before then is not owed to it.
    """

    __slots__ = ("_local", "custom", "cycles", "env", "now", "params", "poll_interval",
                 "scheduler_started", "status", "task", "task_since", "tz")

    def __init__(
        self,
        now: float,
        tz: tzinfo,
        task: str | None,
        status: StatusView,
        scheduler_started: float | None = None,
        cycles: int = 0,
        params: Mapping[str, Any] | None = None,
        env: str | None = None,
        custom: Mapping[str, Callable[..., bool]] | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        self.now = now
        self.tz = tz
        self.task = task
        self.status = status
        self.scheduler_started = now if scheduler_started is None else scheduler_started
        self.cycles = cycles
        self.params: Mapping[str, Any] = params or {}
        self.env = env
        self.custom: Mapping[str, Callable[..., bool]] = custom or {}
        self.poll_interval = poll_interval
        self.task_since: float | None = None
        self._local: datetime | None = None

    @property
    def local(self) -> datetime:
        """``now`` as an aware datetime in the session time zone (computed once)."""
        if self._local is None:
            self._local = datetime.fromtimestamp(self.now, self.tz)
        return self._local

    def for_task(self, task: str | None) -> Context:
        """The same context, evaluated on behalf of another task."""
        return Context(self.now, self.tz, task, self.status, self.scheduler_started,
                       self.cycles, self.params, self.env, self.custom, self.poll_interval)

    def self_status(self) -> TaskStatus:
        """The status of the task being evaluated."""
        if self.task is None:
            return TaskStatus()
        return self.status.status(self.task)
