"""Calendar conditions: ``daily`` and friends (run once per period), ``time of ...`` windows
and ``every <span>``."""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from tui_sched.conditions.base import Condition
from tui_sched.conditions.context import Context
from tui_sched.conditions.text import norm_span
from tui_sched.conditions.windows import Kind, Unit, Window
from tui_sched.frozen import value
from tui_sched.store.base import Outcome
from tui_sched.timespan import format_span

#: The period word of each unit.
PERIOD_WORDS: dict[Unit, str] = {
    "second": "secondly", "minute": "minutely", "hour": "hourly",
    "day": "daily", "week": "weekly", "month": "monthly",
}
WORD_UNITS: dict[str, Unit] = {w: u for u, w in PERIOD_WORDS.items()}

#: Outcomes that use up a period (DESIGN §3.2). A crash does not: the run never really
#: finished, so the task may run again in the same period.
PERIOD_OUTCOMES = (Outcome.SUCCESS, Outcome.FAIL, Outcome.TERMINATE, Outcome.INACTION)

Based = Literal["run", "success", "fail", "finish"]


class _Windowed:
    """Object-spelling methods shared by ``Period`` and ``TimeOf``: ``daily.between(...)``."""

    __slots__ = ()
    window: Window

    def _with(self, kind: Kind, start: str | None = None, end: str | None = None) -> Self:
        return type(self)(Window.of(self.window.unit, kind, start, end))  # type: ignore[call-arg]

    def between(self, start: str, end: str) -> Self:
        """Within ``[start, end]`` of each period (``"10:00"``, ``"Monday"``, ``"1st"``)."""
        return self._with("between", start, end)

    def after(self, start: str) -> Self:
        """From ``start`` to the end of each period."""
        return self._with("after", start)

    def before(self, end: str) -> Self:
        """From the start of each period until ``end``."""
        return self._with("before", None, end)

    def starting(self, start: str) -> Self:
        """The whole period, but beginning at ``start`` (``daily.starting("10:00")``)."""
        return self._with("starting", start)

    def on(self, point: str) -> Self:
        """One sub-unit: a day of a week or month, an hour of a day (``weekly.on("Mon")``)."""
        return self._with("on", point)

    at = on


@value
class Period(_Windowed, Condition):
    """``daily``, ``weekly on Monday``, ``daily between 10:00 and 12:00`` ...

    True when now is inside the window and the task has no success, fail, terminate or
    inaction whose end falls in the current occurrence of the window.
    """

    window: Window

    def evaluate(self, ctx: Context) -> bool:
        cur = self.window.current(ctx.now, ctx.tz)
        return cur is not None and not _ended_since(ctx, cur[0])

    def next_change(self, ctx: Context) -> float | None:
        cur = self.window.current(ctx.now, ctx.tz)
        if cur is not None and not _ended_since(ctx, cur[0]):
            return cur[1]  # true until the window closes
        return self.window.next_start(ctx.now, ctx.tz)

    def __str__(self) -> str:
        return PERIOD_WORDS[self.window.unit] + self.window.variant_str()


def _ended_since(ctx: Context, since: float) -> bool:
    status = ctx.self_status()
    return any((t := status.last(o)) is not None and t >= since for o in PERIOD_OUTCOMES)


@value
class TimeOf(_Windowed, Condition):
    """``time of day between 10:00 and 12:00``: a pure window, true inside it."""

    window: Window

    def evaluate(self, ctx: Context) -> bool:
        return self.window.current(ctx.now, ctx.tz) is not None

    def next_change(self, ctx: Context) -> float | None:
        return self.window.next_edge(ctx.now, ctx.tz)

    def __str__(self) -> str:
        return f"time of {self.window.unit}{self.window.variant_str()}"


@value
class Every(Condition):
    """``every 10 seconds``: the task has not started (or succeeded, failed, finished, per
    ``based``) within the span. Spans are elapsed time, not wall time.

    Attributes:
        span: Seconds.
        based: Which event restarts the span: ``run`` (a start, the default),
            ``success``, ``fail`` or ``finish`` (success, fail, terminate or inaction).
    """

    span: float
    based: Based = "run"
    precedence: ClassVar[int] = 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "span", norm_span(self.span))

    def _reference(self, ctx: Context) -> float | None:
        status = ctx.self_status()
        if self.based == "run":
            return status.last_start
        if self.based == "success":
            return status.last(Outcome.SUCCESS)
        if self.based == "fail":
            return status.last(Outcome.FAIL)
        ends = [t for o in PERIOD_OUTCOMES if (t := status.last(o)) is not None]
        return max(ends, default=None)

    def evaluate(self, ctx: Context) -> bool:
        # The common case spelled out: this runs two or three times per run.
        ref = ctx.self_status().last_start if self.based == "run" else self._reference(ctx)
        return ref is None or ctx.now - ref >= self.span

    def next_change(self, ctx: Context) -> float | None:
        ref = ctx.self_status().last_start if self.based == "run" else self._reference(ctx)
        if ref is None or ctx.now >= ref + self.span:
            return None
        return ref + self.span

    def check(self, ctx: Context) -> tuple[bool, float | None]:
        # ``evaluate`` then ``next_change`` from one reading of the status (the same
        # comparisons, so the answer cannot differ at a boundary). The engine asks this
        # twice per run: ``self_status`` is spelled out (no task: no runs).
        if self.based != "run":
            ref = self._reference(ctx)
        else:
            ref = None if ctx.task is None else ctx.status.status(ctx.task).last_start
        if ref is None or ctx.now - ref >= self.span:
            return True, None
        due = ref + self.span
        return False, None if ctx.now >= due else due

    def __str__(self) -> str:
        based = "" if self.based == "run" else f" based on {self.based}"
        return f"every {format_span(self.span)}{based}"
