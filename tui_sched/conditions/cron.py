"""``cron <expr>`` (once per cron slot) and ``crontime <expr>`` (true in the fire minutes).

croniter does the field arithmetic (ranges, steps, lists, names, the Vixie rule that a
restricted day-of-month and day-of-week match if *either* matches): it is subtle and well
tested there. We run it over naive local wall time, where it has no DST surprises, and map
each fire time to an instant with ``to_epoch``, which applies DESIGN §3.2: a fire time in a
spring gap fires at the first valid instant after it; a repeated time fires once, at its
first occurrence.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from tui_sched.conditions.base import Condition
from tui_sched.conditions.context import Context
from tui_sched.conditions.localtime import to_epoch
from tui_sched.frozen import value
from tui_sched.store.base import Outcome

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
#: Enough steps to cross any DST overlap of an every-minute expression, and then some.
_MAX_STEPS = 10_000


def _croniter() -> Any:
    # Imported on first use: it (with dateutil) is a third of tui-sched's import time,
    # and most task folders have no cron condition.
    from croniter import croniter

    return croniter


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
#: Index of the day-of-month field.
DAY_OF_MONTH = 2


class CronNeverFires(ValueError):
    """A well-formed cron expression that names no real date (``0 0 30 2 *``).

    Attributes:
        reason: Why, in a few words (``day 30 never occurs in February``).
        field: Index (0-4) of the field to blame.
        suggestion: An expression that probably says what was meant, if one is known.
    """

    def __init__(self, expr: str, reason: str, field: int,
                 suggestion: str | None = None) -> None:
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(f"cron expression {expr!r} never fires: {reason}{hint}")
        self.reason = reason
        self.field = field
        self.suggestion = suggestion


@lru_cache(maxsize=1024)
def normalise(expr: str) -> str:
    """Collapse whitespace, lower-case a macro; raise ``ValueError`` when invalid.

    Raises:
        CronNeverFires: The expression is well formed but never fires.
        ValueError: It is not a 5-field expression or a known macro.
    """
    text = " ".join(expr.split())
    if text.startswith("@"):
        text = text.lower()
        if text not in MACROS:
            raise ValueError(f"unknown cron macro {text!r}; one of {', '.join(MACROS)}")
        return text
    if len(text.split()) != 5 or not _croniter().is_valid(text):
        raise ValueError(f"not a 5-field cron expression: {expr!r}")
    _check_fires(text)
    return text


def _check_fires(text: str) -> None:
    """Refuse an expression whose dates never happen, such as the 30th of February.

    Found now, when the condition is made, instead of by every evaluation failing at
    run time. croniter searches decades ahead (a 29th of February fires every leap year).
    """
    from croniter import CroniterBadDateError

    try:
        _croniter()(text, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        pass
    else:
        return
    fields = text.split()
    (_, _, days, months, _), _ = _croniter().expand(text)
    numeric = [d for d in days if isinstance(d, int)]
    if fields[4] == "*" and numeric and len(numeric) == len(days):
        names = ", ".join(_MONTHS[m - 1] for m in months if isinstance(m, int))
        day = " or ".join(str(d) for d in numeric)
        fields[DAY_OF_MONTH] = "L"  # croniter's "last day of the month"
        raise CronNeverFires(text, f"day {day} never occurs in {names}", DAY_OF_MONTH,
                             " ".join(fields))
    raise CronNeverFires(text, "no date matches all its fields", DAY_OF_MONTH)


def _naive_base(now: float, tz: tzinfo) -> datetime:
    """The latest wall-clock time already reached at ``now``.

    In the second pass through an autumn overlap the clock reads an earlier wall time
    than it already showed once; the fires up to the end of the overlap have happened.
    """
    local = datetime.fromtimestamp(now, tz)
    naive = local.replace(tzinfo=None)
    if local.fold:
        first, second = local.replace(fold=0).utcoffset(), local.utcoffset()
        if first is not None and second is not None:
            naive += first - second
    return naive


class _FireWindows:
    """Memo of the fire window ``[prev, next)`` around the last instant asked, per
    expression and zone: inside it the answers cannot change, and a folder of many tasks
    on one expression (or one task asked at each tick) then costs one croniter walk per
    fire instead of one per evaluation. A memo of a pure function, bounded in size."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._windows: dict[tuple[str, str], tuple[float | None, float | None]] = {}

    def get(self, expr: str, now: float, tz: tzinfo) -> tuple[float | None, float | None]:
        key = (expr, str(tz))
        window = self._windows.get(key)
        if window is not None:
            prev, nxt = window
            if prev is not None and nxt is not None and prev <= now < nxt:
                return window
        window = (_prev_fire(expr, now, tz), _next_fire(expr, now, tz))
        if len(self._windows) >= self._size:
            self._windows.clear()
        self._windows[key] = window
        return window


_WINDOWS = _FireWindows()


def prev_fire(expr: str, now: float, tz: tzinfo) -> float | None:
    """The latest fire instant at or before ``now``."""
    return _WINDOWS.get(expr, now, tz)[0]


def next_fire(expr: str, now: float, tz: tzinfo) -> float | None:
    """The first fire instant after ``now``."""
    return _WINDOWS.get(expr, now, tz)[1]


def _prev_fire(expr: str, now: float, tz: tzinfo) -> float | None:
    it = _croniter()(MACROS.get(expr, expr), _naive_base(now, tz) + timedelta(seconds=1))
    for _ in range(_MAX_STEPS):
        fire = to_epoch(it.get_prev(datetime), tz)
        if fire <= now:
            return fire
    return None


def _next_fire(expr: str, now: float, tz: tzinfo) -> float | None:
    base = datetime.fromtimestamp(now, tz).replace(tzinfo=None, microsecond=0)
    it = _croniter()(MACROS.get(expr, expr), base)
    for _ in range(_MAX_STEPS):
        fire = to_epoch(it.get_next(datetime), tz)
        if fire > now:
            return fire  # a repeated wall time maps to its first occurrence: skip those
    return None


@value
class Cron(Condition):
    """``cron */5 * * * *``: the task runs once in each cron slot.

    True when the latest fire time is later than this task's last start. A task that
    never started waits for the first fire time after the scheduler started (cron is a
    clock, unlike ``daily``, which is a period; catching up missed slots is the
    engine's misfire policy).

    Attributes:
        expr: The normalised expression (five fields or an ``@macro``).
    """

    expr: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "expr", normalise(self.expr))

    def evaluate(self, ctx: Context) -> bool:
        fire = prev_fire(self.expr, ctx.now, ctx.tz)
        if fire is None:
            return False
        status = ctx.self_status()
        last = status.last_start
        # A slot recorded as missed (misfire="skip") is used up too.
        missed = status.last(Outcome.MISSED)
        if missed is not None and (last is None or missed > last):
            last = missed
        if last is None:  # never ran: only a slot that fired since the task is there
            since = ctx.task_since if ctx.task_since is not None else ctx.scheduler_started
            return fire >= since
        return last < fire

    def next_change(self, ctx: Context) -> float | None:
        return next_fire(self.expr, ctx.now, ctx.tz)

    def __str__(self) -> str:
        return f"cron {self.expr}"


@value
class CronTime(Condition):
    """``crontime 0 10 * * 1-5``: a pure window, true during each fire minute."""

    expr: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "expr", normalise(self.expr))

    def evaluate(self, ctx: Context) -> bool:
        fire = prev_fire(self.expr, ctx.now, ctx.tz)
        return fire is not None and ctx.now < fire + 60

    def next_change(self, ctx: Context) -> float | None:
        fire = prev_fire(self.expr, ctx.now, ctx.tz)
        if fire is not None and ctx.now < fire + 60:
            return fire + 60
        return next_fire(self.expr, ctx.now, ctx.tz)

    def __str__(self) -> str:
        return f"crontime {self.expr}"
