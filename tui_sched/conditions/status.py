"""Conditions on task runs: dependencies (``after task 'x'``), history (``has failed
today``), ``running`` and ``retry(n)``. They change only on run events, except where a
time window or span moves (then ``next_change`` says when)."""

from __future__ import annotations

import math
import operator
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from tui_sched.conditions.base import Condition
from tui_sched.conditions.context import Context, TaskStatus
from tui_sched.conditions.operands import TaskRef, task_name
from tui_sched.conditions.text import norm_span, quote
from tui_sched.conditions.windows import Kind, Unit, Window
from tui_sched.frozen import value
from tui_sched.store.base import Outcome
from tui_sched.timespan import format_span, parse_span

Verb = Literal["succeeded", "failed", "finished", "terminated", "inacted", "crashed"]

#: Outcomes each verb stands for. ``finished`` follows Rocketry: success, fail, terminate.
VERB_OUTCOMES: dict[str, tuple[Outcome, ...]] = {
    "succeeded": (Outcome.SUCCESS,),
    "failed": (Outcome.FAIL,),
    "finished": (Outcome.SUCCESS, Outcome.FAIL, Outcome.TERMINATE),
    "terminated": (Outcome.TERMINATE,),
    "inacted": (Outcome.INACTION,),
    "crashed": (Outcome.CRASH,),
}
DEPEND_VERBS = ("succeeded", "failed", "finished", "terminated")


def last_of(status: TaskStatus, outcomes: tuple[Outcome, ...]) -> float | None:
    """Latest end time of a run with one of ``outcomes``."""
    ends = [t for o in outcomes if (t := status.last(o)) is not None]
    return max(ends, default=None)


@value
class After(Condition):
    """``after task 'x' [succeeded|failed|finished|terminated]``.

    True when ``task`` reached the outcome after this task last started, or at all if
    this task never started.
    """

    task: str
    verb: Verb = "succeeded"

    def __post_init__(self) -> None:
        quote(self.task)  # reject unrepresentable names early
        if self.verb not in DEPEND_VERBS:
            raise ValueError(f"'after task' takes one of {', '.join(DEPEND_VERBS)}")

    def evaluate(self, ctx: Context) -> bool:
        reached = last_of(ctx.status.status(self.task), VERB_OUTCOMES[self.verb])
        if reached is None:
            return False
        mine = ctx.self_status().last_start
        return mine is None or reached > mine

    def task_refs(self) -> frozenset[str]:
        return frozenset({self.task})

    def __str__(self) -> str:
        verb = "" if self.verb == "succeeded" else f" {self.verb}"
        return f"after task {quote(self.task)}{verb}"


Op = Literal[">=", ">", "<=", "<", "==", "!="]
_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}


class Countable(Condition):
    """A condition that counts something (runs, failures); true when the count is > 0.

    ``cond >= 3`` (also ``>``, ``<=``, ``<``) makes a ``Compare``; ``==`` stays structural
    equality of nodes, so write ``cond.count_is(0)`` or the string form ``... == 0``.
    """

    __slots__ = ()

    @abstractmethod
    def count(self, ctx: Context) -> int:
        """How many there are now."""

    def evaluate(self, ctx: Context) -> bool:
        return self.count(ctx) > 0

    def __ge__(self, n: int) -> Compare:
        return Compare(self, ">=", n)

    def __gt__(self, n: int) -> Compare:
        return Compare(self, ">", n)

    def __le__(self, n: int) -> Compare:
        return Compare(self, "<=", n)

    def __lt__(self, n: int) -> Compare:
        return Compare(self, "<", n)

    def count_is(self, n: int) -> Compare:
        """Exactly ``n`` (``cond == n`` in the string form)."""
        return Compare(self, "==", n)


@value
class Compare(Condition):
    """``has failed today >= 3``, ``running < 4``: a count compared with a number."""

    item: Countable
    op: Op
    n: int

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"unknown comparison {self.op!r}")

    def evaluate(self, ctx: Context) -> bool:
        return _OPS[self.op](self.item.count(ctx), self.n)

    def next_change(self, ctx: Context) -> float | None:
        return self.item.next_change(ctx)

    def task_refs(self) -> frozenset[str]:
        return self.item.task_refs()

    def children(self) -> tuple[Condition, ...]:
        return ()

    def __str__(self) -> str:
        return f"{self.item} {self.op} {self.n}"


StatusVerb = Literal["succeeded", "failed", "finished", "terminated", "inacted", "crashed",
                     "started"]
STATUS_VERBS = ("succeeded", "failed", "finished", "terminated", "inacted", "crashed",
                "started")
#: How the status phrases name the current unit: ``today``, ``this hour`` ...
SCOPE_WORDS: dict[str, str] = {"minute": "this minute", "hour": "this hour", "day": "today",
                               "week": "this week", "month": "this month"}


@value
class HasStatus(Countable):
    """``[task 'x' ]has failed [today [between ...] | this week | in past 1 hour]``.

    Counts the runs of ``task`` (this task when ``None``) that reached the outcome
    (``started``: that started) within the period: ever, the latest occurrence of
    ``window`` up to now, or the last ``past`` seconds.
    """

    verb: StatusVerb
    task: str | None = None
    window: Window | None = None
    past: float | None = None

    def __post_init__(self) -> None:
        if self.verb not in STATUS_VERBS:
            raise ValueError(f"status must be one of {', '.join(STATUS_VERBS)}")
        if self.window is not None and self.past is not None:
            raise ValueError("give a window or a past span, not both")
        if self.task is not None:
            quote(self.task)
        if self.past is not None:
            object.__setattr__(self, "past", norm_span(self.past))

    # -- object spelling -------------------------------------------------------------
    def __call__(self, task: TaskRef) -> HasStatus:
        """The same condition about another task: ``failed("fetch").today`` (or
        ``failed(fetch)``, the task's function)."""
        return replace(self, task=task_name(task))

    def _scoped(self, unit: Unit) -> HasStatus:
        return replace(self, window=Window(unit), past=None)

    @property
    def today(self) -> HasStatus:
        """In the current day."""
        return self._scoped("day")

    this_day = today

    @property
    def this_minute(self) -> HasStatus:
        """In the current minute."""
        return self._scoped("minute")

    @property
    def this_hour(self) -> HasStatus:
        """In the current hour."""
        return self._scoped("hour")

    @property
    def this_week(self) -> HasStatus:
        """In the current week (from Monday)."""
        return self._scoped("week")

    @property
    def this_month(self) -> HasStatus:
        """In the current month."""
        return self._scoped("month")

    def in_past(self, span: str | float) -> HasStatus:
        """In the last ``span`` (``"1 hour"``)."""
        return replace(self, window=None, past=parse_span(span))

    def _windowed(self, kind: Kind, start: str | None = None, end: str | None = None
                  ) -> HasStatus:
        if self.window is None:
            raise ValueError("choose a period first, e.g. failed.today.between(...)")
        return replace(self, window=Window.of(self.window.unit, kind, start, end))

    def between(self, start: str, end: str) -> HasStatus:
        """Only within ``start``..``end`` of the period."""
        return self._windowed("between", start, end)

    def after(self, start: str) -> HasStatus:
        """Only after ``start`` in the period."""
        return self._windowed("after", start)

    def before(self, end: str) -> HasStatus:
        """Only before ``end`` in the period."""
        return self._windowed("before", None, end)

    def starting(self, start: str) -> HasStatus:
        """The period begins at ``start``."""
        return self._windowed("starting", start)

    def on(self, point: str) -> HasStatus:
        """Only on ``point`` of the period."""
        return self._windowed("on", point)

    # -- evaluation ------------------------------------------------------------------
    def _span(self, ctx: Context) -> tuple[float, float] | None:
        if self.past is not None:
            # Half-open (now - past, now]: a run ended exactly ``past`` ago has dropped out,
            # so the change instant reported by ``next_change`` is where truth flips.
            return math.nextafter(ctx.now - self.past, math.inf), ctx.now
        if self.window is not None:
            occ = self.window.latest(ctx.now, ctx.tz)
            return None if occ is None else (occ[0], min(occ[1], ctx.now))
        return float("-inf"), ctx.now

    def _times(self, status: TaskStatus) -> list[float]:
        if self.verb == "started":
            return [r[0] for r in status.recent] + list(status.running)
        outcomes = VERB_OUTCOMES[self.verb]
        return [end for _, end, outcome in status.recent if outcome in outcomes]

    def _status(self, ctx: Context) -> TaskStatus:
        return ctx.self_status() if self.task is None else ctx.status.status(self.task)

    def count(self, ctx: Context) -> int:
        span = self._span(ctx)
        if span is None:
            return 0
        return sum(span[0] <= t <= span[1] for t in self._times(self._status(ctx)))

    def evaluate(self, ctx: Context) -> bool:
        span = self._span(ctx)
        if span is None:
            return False
        status = self._status(ctx)
        # Fast path from the latest times; the recent-runs scan only when they cannot say.
        latest = status.last_start if self.verb == "started" else last_of(
            status, VERB_OUTCOMES[self.verb])
        if latest is None or latest < span[0]:
            return False
        if latest <= span[1]:
            return True
        return self.count(ctx) > 0

    def next_change(self, ctx: Context) -> float | None:
        if self.past is not None:
            inside = [t for t in self._times(self._status(ctx)) if t + self.past > ctx.now]
            return min(inside) + self.past if inside else None
        if self.window is not None:
            return self.window.next_start(ctx.now, ctx.tz)
        return None

    def task_refs(self) -> frozenset[str]:
        return frozenset() if self.task is None else frozenset({self.task})

    def __str__(self) -> str:
        who = "" if self.task is None else f"task {quote(self.task)} "
        if self.past is not None:
            when = f" in past {format_span(self.past)}"
        elif self.window is not None:
            when = f" {SCOPE_WORDS[self.window.unit]}{self.window.variant_str()}"
        else:
            when = ""
        return f"{who}has {self.verb}{when}"


@value
class Running(Countable):
    """``running``, ``task 'x' is running [more than 10 minutes] [less than 1 hour]``.

    Counts the runs in progress of ``task`` (this task when ``None``) that have lasted at
    least ``min_age`` seconds and less than ``max_age``.
    """

    task: str | None = None
    min_age: float | None = None
    max_age: float | None = None

    def __post_init__(self) -> None:
        for name in ("min_age", "max_age"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, norm_span(value))
        if self.task is not None:
            quote(self.task)

    def __call__(self, task: TaskRef) -> Running:
        """The same condition about another task: ``running("fetch")`` (or
        ``running(fetch)``)."""
        return replace(self, task=task_name(task))

    def more_than(self, span: str | float) -> Running:
        """Only runs that have lasted at least ``span`` (``running.more_than("1h")``)."""
        return replace(self, min_age=parse_span(span))

    def less_than(self, span: str | float) -> Running:
        """Only runs that have lasted less than ``span``."""
        return replace(self, max_age=parse_span(span))

    def between(self, more_than: str | float, less_than: str | float) -> Running:
        """Only runs that have lasted at least ``more_than`` and less than ``less_than``
        (Rocketry's ``running(task).between("2 mins", "5 mins")``)."""
        return replace(self, min_age=parse_span(more_than), max_age=parse_span(less_than))

    def _starts(self, ctx: Context) -> list[float]:
        status = ctx.self_status() if self.task is None else ctx.status.status(self.task)
        return list(status.running)

    def _counts(self, age: float) -> bool:
        return ((self.min_age is None or age >= self.min_age)
                and (self.max_age is None or age < self.max_age))

    def count(self, ctx: Context) -> int:
        return sum(self._counts(ctx.now - s) for s in self._starts(ctx))

    def next_change(self, ctx: Context) -> float | None:
        edges = [s + span for s in self._starts(ctx) for span in (self.min_age, self.max_age)
                 if span is not None and s + span > ctx.now]
        return min(edges, default=None)

    def task_refs(self) -> frozenset[str]:
        return frozenset() if self.task is None else frozenset({self.task})

    def __str__(self) -> str:
        text = "running" if self.task is None else f"task {quote(self.task)} is running"
        if self.min_age is not None:
            text += f" more than {format_span(self.min_age)}"
        if self.max_age is not None:
            text += f" less than {format_span(self.max_age)}"
        return text


#: Outcomes that end a streak of failures for ``retry(n)``; missed/skipped records are
#: not runs and are ignored.
_STREAK_BREAKERS = (Outcome.SUCCESS, Outcome.TERMINATE, Outcome.CRASH, Outcome.INACTION)


@value
class Retry(Condition):
    """``retry(n)``: the task's latest run failed and at most ``n`` runs in a row have
    failed, so it may try again (combine as ``daily | retry(3)``)."""

    n: int

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("retry(n) needs n >= 0")

    def evaluate(self, ctx: Context) -> bool:
        streak = 0
        for _, _, outcome in reversed(ctx.self_status().recent):
            if outcome == Outcome.FAIL:
                streak += 1
            elif outcome in _STREAK_BREAKERS:
                break
        return 0 < streak <= self.n

    def __str__(self) -> str:
        return f"retry({self.n})"
