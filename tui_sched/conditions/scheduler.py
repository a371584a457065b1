"""Session facts: scheduler age and cycles, the environment name, session parameters.

Parameters and the environment can change without a run event and without a predictable
time, so those nodes ask to be re-checked every ``ctx.poll_interval``.
"""

from __future__ import annotations

from typing import Literal

from tui_sched.conditions.base import Condition
from tui_sched.conditions.context import Context
from tui_sched.conditions.text import norm_span, quote
from tui_sched.frozen import value
from tui_sched.timespan import format_span


@value
class SchedulerAge(Condition):
    """``scheduler has run over 10 minutes`` (``over``: at least that long) or ``scheduler
    started 10 minutes ago`` (less than that long ago: the two are exact opposites, and
    both change at the edge, which ``next_change`` names)."""

    span: float
    over: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "span", norm_span(self.span))

    def evaluate(self, ctx: Context) -> bool:
        age = ctx.now - ctx.scheduler_started
        return age >= self.span if self.over else age < self.span

    def next_change(self, ctx: Context) -> float | None:
        edge = ctx.scheduler_started + self.span
        return edge if edge > ctx.now else None

    def __str__(self) -> str:
        if self.over:
            return f"scheduler has run over {format_span(self.span)}"
        return f"scheduler started {format_span(self.span)} ago"


@value
class SchedulerCycles(Condition):
    """``scheduler has more than 5 cycles`` / ``less than``."""

    compare: Literal["more", "less"]
    n: int

    def evaluate(self, ctx: Context) -> bool:
        return ctx.cycles > self.n if self.compare == "more" else ctx.cycles < self.n

    def next_change(self, ctx: Context) -> float | None:
        return ctx.now + ctx.poll_interval  # cycles advance with the engine, not the clock

    def __str__(self) -> str:
        return f"scheduler has {self.compare} than {self.n} cycles"


@value
class Env(Condition):
    """``env 'prod'``: the session's environment is ``name``."""

    name: str

    def evaluate(self, ctx: Context) -> bool:
        return ctx.env == self.name

    def next_change(self, ctx: Context) -> float | None:
        return ctx.now + ctx.poll_interval

    def __str__(self) -> str:
        return f"env {quote(self.name)}"


@value
class ParamExists(Condition):
    """``param 'key' exists``: the session parameter is set (to anything but ``None``)."""

    key: str

    def evaluate(self, ctx: Context) -> bool:
        return ctx.params.get(self.key) is not None

    def next_change(self, ctx: Context) -> float | None:
        return ctx.now + ctx.poll_interval

    def __str__(self) -> str:
        return f"param {quote(self.key)} exists"


@value
class ParamIs(Condition):
    """``param 'key' is 'value'``: the parameter equals ``value`` (or its text does, so
    ``param 'workers' is '4'`` matches the number 4)."""

    key: str
    value: str

    def evaluate(self, ctx: Context) -> bool:
        if self.key not in ctx.params:
            return False
        actual = ctx.params[self.key]
        return bool(actual == self.value or str(actual) == self.value)

    def next_change(self, ctx: Context) -> float | None:
        return ctx.now + ctx.poll_interval

    def __str__(self) -> str:
        return f"param {quote(self.key)} is {quote(self.value)}"
