"""Conditions as objects: the second spelling of the condition language.

Every object here is the same frozen node that parsing the string form gives, so
``daily.between("10:00", "12:00") == parse_condition("daily between 10:00 and 12:00")``.
Combine with ``&``, ``|`` and ``~``.

>>> from tui_sched.conds import daily, after_success
>>> str(daily.after("10:00") & after_success("fetch"))
"daily after 10:00 & after task 'fetch'"
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tui_sched.conditions.base import All, AlwaysFalse, AlwaysTrue, Any_, Condition
from tui_sched.conditions.cron import Cron, CronTime
from tui_sched.conditions.custom import ConditionFunction
from tui_sched.conditions.operands import TaskRef, task_name
from tui_sched.conditions.periods import Based, Every, Period, TimeOf
from tui_sched.conditions.scheduler import (
    Env,
    ParamExists,
    ParamIs,
    SchedulerAge,
    SchedulerCycles,
)
from tui_sched.conditions.status import After, HasStatus, Retry, Running
from tui_sched.conditions.windows import Window
from tui_sched.timespan import parse_span

true = AlwaysTrue()
false = AlwaysFalse()

secondly = Period(Window("second"))
minutely = Period(Window("minute"))
hourly = Period(Window("hour"))
daily = Period(Window("day"))
weekly = Period(Window("week"))
monthly = Period(Window("month"))

time_of_minute = TimeOf(Window("minute"))
time_of_hour = TimeOf(Window("hour"))
time_of_day = TimeOf(Window("day"))
time_of_week = TimeOf(Window("week"))
time_of_month = TimeOf(Window("month"))


def every(span: str | float | timedelta, based: Based = "run") -> Every:
    """True when the task has not started (``based``: succeeded, failed, finished) within
    ``span`` (``"10 seconds"``, ``"1h 30m"``, a number of seconds or a ``timedelta``)."""
    if based not in ("run", "success", "fail", "finish"):
        raise ValueError(f"based must be run, success, fail or finish, not {based!r}")
    return Every(parse_span(span), based)


def _cron_expr(expr: str | None, fields: dict[str, str]) -> str:
    if expr is not None:
        if fields:
            raise TypeError("give either an expression or fields, not both")
        return expr
    names = ("minute", "hour", "day_of_month", "month", "day_of_week")
    unknown = set(fields) - set(names)
    if unknown:
        raise TypeError(f"unknown cron field(s): {', '.join(sorted(unknown))}")
    return " ".join(fields.get(n, "*") for n in names)


def cron(expr: str | None = None, **fields: str) -> Cron:
    """Once per cron slot: ``cron("*/5 * * * *")``, ``cron("@daily")`` or
    ``cron(minute="*/5", hour="9-17")`` (missing fields are ``*``)."""
    return Cron(_cron_expr(expr, fields))


def crontime(expr: str | None = None, **fields: str) -> CronTime:
    """True during each minute the cron expression fires (a pure time window)."""
    return CronTime(_cron_expr(expr, fields))


def after_success(task: TaskRef) -> After:
    """``after task '<task>'``: it succeeded after this task last started."""
    return After(task_name(task), "succeeded")


def after_fail(task: TaskRef) -> After:
    """``after task '<task>' failed``."""
    return After(task_name(task), "failed")


def after_finish(task: TaskRef) -> After:
    """``after task '<task>' finished`` (success, fail or terminate)."""
    return After(task_name(task), "finished")


def after_terminate(task: TaskRef) -> After:
    """``after task '<task>' terminated``."""
    return After(task_name(task), "terminated")


def after_all_success(*tasks: TaskRef) -> Condition:
    """``after tasks 'a', 'b'``: every one succeeded after this task last started."""
    return All.of(*(After(task_name(t), "succeeded") for t in tasks))


def after_all_fail(*tasks: TaskRef) -> Condition:
    """Every one of ``tasks`` failed after this task last started."""
    return All.of(*(After(task_name(t), "failed") for t in tasks))


def after_all_finish(*tasks: TaskRef) -> Condition:
    """Every one of ``tasks`` finished after this task last started."""
    return All.of(*(After(task_name(t), "finished") for t in tasks))


def after_all_terminate(*tasks: TaskRef) -> Condition:
    """Every one of ``tasks`` was terminated after this task last started."""
    return All.of(*(After(task_name(t), "terminated") for t in tasks))


def after_any_success(*tasks: TaskRef) -> Condition:
    """``after any tasks 'a', 'b'``: one of them succeeded after this task last started."""
    return Any_.of(*(After(task_name(t), "succeeded") for t in tasks))


def after_any_fail(*tasks: TaskRef) -> Condition:
    """One of ``tasks`` failed after this task last started."""
    return Any_.of(*(After(task_name(t), "failed") for t in tasks))


def after_any_finish(*tasks: TaskRef) -> Condition:
    """One of ``tasks`` finished after this task last started."""
    return Any_.of(*(After(task_name(t), "finished") for t in tasks))


def after_any_terminate(*tasks: TaskRef) -> Condition:
    """One of ``tasks`` was terminated after this task last started."""
    return Any_.of(*(After(task_name(t), "terminated") for t in tasks))


# -- status ------------------------------------------------------------------------
#: ``has succeeded``; ``succeeded("x")`` for another task; ``.today``, ``.this_week``...,
#: ``.in_past("1 hour")``, then ``.between(...)`` etc.; ``failed.today >= 3`` counts.
succeeded = HasStatus("succeeded")
failed = HasStatus("failed")
finished = HasStatus("finished")
terminated = HasStatus("terminated")
inacted = HasStatus("inacted")
crashed = HasStatus("crashed")
started = HasStatus("started")

#: ``running`` (this task); ``running("x")``, ``running.more_than("10 minutes")``,
#: ``running >= 2`` (the number of runs in progress).
running = Running()


def retry(n: int) -> Retry:
    """The latest run failed and at most ``n`` runs in a row failed: ``daily | retry(3)``."""
    return Retry(n)


# -- session facts -------------------------------------------------------------------
def scheduler_running(more_than: str | float | None = None,
                      less_than: str | float | None = None) -> Condition:
    """The scheduler has run at least ``more_than`` and/or at most ``less_than``."""
    parts: list[Condition] = []
    if more_than is not None:
        parts.append(SchedulerAge(parse_span(more_than), over=True))
    if less_than is not None:
        parts.append(SchedulerAge(parse_span(less_than), over=False))
    if not parts:
        raise TypeError("give more_than and/or less_than")
    return parts[0] if len(parts) == 1 else All.of(*parts)


def scheduler_cycles(more_than: int | None = None, less_than: int | None = None) -> Condition:
    """``scheduler has more than|less than <n> cycles``."""
    parts: list[Condition] = []
    if more_than is not None:
        parts.append(SchedulerCycles("more", more_than))
    if less_than is not None:
        parts.append(SchedulerCycles("less", less_than))
    if not parts:
        raise TypeError("give more_than and/or less_than")
    return parts[0] if len(parts) == 1 else All.of(*parts)


def env(name: str) -> Env:
    """``env '<name>'``: the session's environment is ``name``."""
    return Env(name)


def param_exists(key: str) -> ParamExists:
    """``param '<key>' exists``."""
    return ParamExists(key)


def param_is(key: str, value: object) -> ParamIs:
    """``param '<key>' is '<value>'`` (compared as given, or as text)."""
    return ParamIs(key, str(value))


def condition() -> Callable[[Callable[..., Any]], ConditionFunction]:
    """Rocketry's ``@condition()``: make a function a condition object without an app
    (``daily & my_cond``, ``my_cond(arg)``), e.g. in a module of conditions shared by
    several. It has no phrase in condition strings: register it with ``@app.cond()``
    for that."""
    def decorate(func: Callable[..., Any]) -> ConditionFunction:
        name = getattr(func, "__name__", None)
        if not isinstance(name, str):
            raise TypeError(f"@condition() needs a named function, not {func!r}")
        return ConditionFunction(func, name)
    return decorate
