"""Whether a task starts now: one task's scheduling state and the one function that
decides, which every path of the engine asks (an evaluation pass, a wake-up in a train,
the moment right after a run ended).

Pure: ``decide`` reads the task, its state and a condition context and returns what to
do; the engine carries it out (and is the only one to change the state).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from tui_sched.conditions.base import Condition
from tui_sched.conditions.context import Context
from tui_sched.conditions.cron import Cron
from tui_sched.engine import misfire
from tui_sched.store.base import Trigger
from tui_sched.tasks.task import Task


@dataclass(slots=True)
class TaskState:
    """What the engine holds for one task besides its condition and its run history.

    Attributes:
        retry: A retry waiting for its time: ``(at, attempt)``.
        jitter: A jittered start waiting for its time: ``(at, due)``.
        catch_up: A misfire catch-up run is owed.
        crashes: Runs that ended as ``crash`` in a row (reset by a success).
        backoff_until: After a crash, no start by condition before this instant.
        born: When the engine first saw this version of the task, if it was after
            start-up (added at run time, reloaded, given a new condition) and its
            condition reads the scheduler's start (``owes_slots_from_birth``): the condition
            sees the scheduler as started then, so a ``cron`` slot that fired before the
            task existed is not owed to it.
    """

    retry: tuple[float, int] | None = None
    jitter: tuple[float, float] | None = None
    catch_up: bool = False
    crashes: int = 0
    backoff_until: float | None = None
    born: float | None = None

    def crashed(self, at: float, first: float, cap: float) -> float:
        """A run ended as ``crash`` at ``at``: back off (``first`` seconds, doubled per
        crash in a row, at most ``cap``: see ``crashes.backoff``). Returns when the
        back-off ends."""
        self.crashes += 1
        wait = min(cap, first * 2.0 ** (self.crashes - 1))
        self.backoff_until = at + wait
        return self.backoff_until

    def succeeded(self) -> None:
        """A run succeeded: a pending retry is moot and the crash loop is over."""
        self.retry = None
        self.crashes = 0
        self.backoff_until = None

    def disabled(self) -> None:
        """The task was disabled: a start it was waiting for (a retry, a jittered start,
        a catch-up) will not happen."""
        self.retry = None
        self.jitter = None
        self.catch_up = False

    def is_empty(self) -> bool:
        """Nothing pending: the task's condition alone decides (the engine then drops
        the state, and its decisions skip it)."""
        return (self.retry is None and self.jitter is None and not self.catch_up
                and self.crashes == 0 and self.backoff_until is None and self.born is None)


def owes_slots_from_birth(cond: Condition | None) -> bool:
    """Whether ``cond`` reads when its task appeared (``cron``: a slot that fired before
    is not owed): only then does a task's ``born`` matter."""
    if cond is None:
        return False
    if isinstance(cond, Cron):
        return True
    return any(owes_slots_from_birth(child) for child in cond.children())


class Act(Enum):
    """What to do for a task (``Decision.act``)."""

    START = "start"
    """Start a run (``trigger``; its due and attempt come from ``source``)."""
    SKIP = "skip"
    """A start fell due while a run of the task goes on: record it as skipped."""
    JITTER = "jitter"
    """The condition holds: start after a random delay."""
    WAIT = "wait"
    """Nothing now; decide again at ``at``."""
    IDLE = "idle"
    """Nothing until an event (a run of it or of a task it reads, a change of it)."""


class Source(Enum):
    """What a start or a skip comes from: the part of the state it uses up, and where its
    due and attempt are (the retry's time and attempt, the jittered start's due; for the
    condition, the wake-up that fell due)."""

    CONDITION = "condition"
    FORCE = "force"
    CATCH_UP = "catch-up"
    RETRY = "retry"
    JITTER = "jitter"


class Decision(NamedTuple):
    """The outcome of ``decide``: one of the constants below, or ``wait_until(at)``
    (made once each: a decision is asked for twice per run)."""

    act: Act
    at: float | None = None
    """``WAIT``: when to decide again."""
    trigger: Trigger = Trigger.SCHEDULED
    source: Source = Source.CONDITION
    error: str | None = None
    """The condition raised: what to report (``trace``: its traceback)."""
    trace: str | None = None


IDLE = Decision(Act.IDLE)
START = Decision(Act.START)
START_FORCED = Decision(Act.START, trigger=Trigger.FORCED, source=Source.FORCE)
START_RETRY = Decision(Act.START, trigger=Trigger.RETRY, source=Source.RETRY)
START_CATCH_UP = Decision(Act.START, trigger=Trigger.CATCH_UP, source=Source.CATCH_UP)
#: A catch-up run whose condition holds anyway: an ordinary scheduled start.
START_CAUGHT_UP = Decision(Act.START, source=Source.CATCH_UP)
START_JITTERED = Decision(Act.START, source=Source.JITTER)
SKIP = Decision(Act.SKIP)
SKIP_JITTERED = Decision(Act.SKIP, source=Source.JITTER)
JITTER = Decision(Act.JITTER)
_WAIT = Act.WAIT  # (a module name: an Enum member read through its class costs more)


def wait_until(at: float) -> Decision:
    """Nothing now; decide again at ``at``."""
    return Decision(_WAIT, at)


def decide(task: Task, state: TaskState | None, ctx: Context, due: float | None,
           poll_interval: float) -> Decision:
    """What to do for ``task`` at ``ctx.now``.

    In order: a forced run; nothing for a disabled task; a catch-up run (not during a
    crash back-off); a retry whose time has come; nothing for a task without a condition
    or during a crash back-off; a jittered start whose time has come; then the condition
    itself. A start waits for a run in
    progress unless the task allows overlapping runs (``multilaunch``).

    Args:
        task: The task.
        state: Its pending state (``None``: nothing pending).
        ctx: A context at the instant to decide for (``ctx.task`` is set here).
        due: When the task's wake-up fell due, if that is why it is decided now.
        poll_interval: How soon a condition that raised is checked again.
    """
    ctx.task = task.name
    # The flags' plain attributes: the properties cost a call each, on every run.
    if task._force_run:
        return IDLE if _blocked(task, ctx) else START_FORCED
    cond = task.start_cond
    retry_at = born = None
    if state is not None:
        pending = _pending(task, state, ctx, due)
        if pending is not None:
            return pending
        retry_at = None if state.retry is None else state.retry[0]
        born = state.born
    elif task._disabled or cond is None:
        return IDLE
    assert cond is not None
    try:
        holds, wake = cond.check(ctx) if born is None else _check_as_born(task, born, ctx)
    except Exception as exc:
        return Decision(_WAIT, ctx.now + poll_interval,
                        error=f"task {task.name!r}: evaluating its condition failed: {exc}",
                        trace=traceback.format_exc())
    if not holds:
        if retry_at is not None:
            return _wait(wake, retry_at)
        return IDLE if wake is None else Decision(_WAIT, wake)
    options = task.options
    if not options.multilaunch and ctx.status.status(task.name).running:  # (_blocked)
        # Recorded once, when the start fell due; otherwise decided again at the run's end.
        return IDLE if due is None else SKIP
    return JITTER if options.jitter > 0 else START


def _pending(task: Task, state: TaskState, ctx: Context, due: float | None) -> Decision | None:
    """What the task's pending state decides, if it decides (``None``: its condition)."""
    now = ctx.now
    if task._disabled:
        # Not even a retry (that of a forced run that failed waits for the task to be
        # enabled, which decides again; disabling drops one already pending).
        return IDLE
    cond = task.start_cond
    retry_at = None if state.retry is None else state.retry[0]
    backoff = state.backoff_until
    if backoff is not None and backoff <= now:
        backoff = None
    # A catch-up goes before a retry that is due as well: if it succeeds, that success
    # drops the retry (one run rather than two); if it fails, it is retried in its turn.
    if (cond is not None and backoff is None and state.catch_up
            and misfire.rest_holds(task, ctx)):
        if _blocked(task, ctx):
            return IDLE
        try:
            holds = cond.evaluate(ctx)
        except Exception:
            holds = False
        return START_CAUGHT_UP if holds else START_CATCH_UP
    if retry_at is not None and retry_at <= now:
        if _blocked(task, ctx):
            return IDLE  # decided again when the run in progress ends
        return START_RETRY
    if cond is None:
        return _wait(retry_at)
    if backoff is not None:
        return _wait(backoff, retry_at)
    if state.jitter is not None:
        at = state.jitter[0]
        if at > now:
            return _wait(at, retry_at)
        return SKIP_JITTERED if _blocked(task, ctx) else START_JITTERED
    return None


def _check_as_born(task: Task, born: float, ctx: Context) -> tuple[bool, float | None]:
    """The condition of a task that appeared after start-up, which sees itself as there
    since ``born`` (``Context.task_since``; the scheduler's own start is unchanged, so
    ``scheduler has run over`` keeps its meaning)."""
    assert task.start_cond is not None
    ctx.task_since = born
    try:
        return task.start_cond.check(ctx)
    finally:
        ctx.task_since = None


def _wait(at: float | None, other: float | None = None) -> Decision:
    """Decide again at the earlier of ``at`` and ``other`` (nothing: on an event)."""
    if other is not None and (at is None or other < at):
        at = other
    return IDLE if at is None else Decision(_WAIT, at)


def _blocked(task: Task, ctx: Context) -> bool:
    """A run of the task is in progress and it does not allow overlapping runs."""
    return not task.options.multilaunch and bool(ctx.status.status(task.name).running)
