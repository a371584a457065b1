"""What the differential test generates: start conditions on the grid, task options,
clock spans; and the switches that keep known engine bugs out of it.

Every start condition is *self-limiting*: a trigger (``every``, a calendar period, cron,
``after task``, ``retry(n)``, or an ``|`` of them), which a run at an instant makes false
at that instant, optionally ``&`` filters (windows, status and count conditions, their
``~``, their ``|``). So no task can start again and again at one instant.
"""

from __future__ import annotations

import os

from diffmodel import GRID
from hypothesis import strategies as st

#: Shapes of known engine bugs (each with a strict-xfail regression test in
#: ``test_found.py``) that the generator leaves out, so that the stateful test passes on
#: today's engine. Remove a name once its fix is merged: the generator then covers it.
#: ``DIFF_KNOWN_ENGINE_BUGS=a,b`` in the environment replaces the set (``=`` empties it).
KNOWN_ENGINE_BUGS: set[str] = set()  # all found so far are fixed: see test_found.py
if "DIFF_KNOWN_ENGINE_BUGS" in os.environ:  # e.g. "" to check that the fixes hold
    KNOWN_ENGINE_BUGS = {n for n in os.environ["DIFF_KNOWN_ENGINE_BUGS"].split(",") if n}

NAMES = ("a", "b", "c", "d", "e")
_HOURS = (0, 1, 2, 3, 4, 12, 22, 23)
_MINUTES = (0, 5, 30, 55)
_CRONS = (
    "*/5 * * * *", "*/15 * * * *", "0 * * * *", "30 2 * * *", "0 1 * * *",
    "15 1,2,3 * * *", "0 0 * * *", "45 23 * * *", "0 */2 * * *",
)
_EVERY_STEPS = (1, 2, 3, 4, 6, 12, 24, 36, 72, 288)


def _clock(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


clocks = st.builds(_clock, st.sampled_from(_HOURS), st.sampled_from(_MINUTES))
minute_marks = st.sampled_from((0, 5, 15, 30, 45, 55)).map(lambda m: f"{m:02d}:00")
names = st.sampled_from(NAMES)


@st.composite
def every(draw: st.DrawFn) -> str:
    span = draw(st.sampled_from(_EVERY_STEPS)) * GRID // 60
    based = draw(st.sampled_from(("", "", " based on finish")))
    return f"every {span} minutes{based}"


@st.composite
def period(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(("hourly", "daily", "daily between", "daily after",
                                 "daily before", "daily at", "daily starting",
                                 "hourly between", "hourly after", "weekly on")))
    if kind in ("hourly", "daily"):
        return kind
    if kind == "daily between":
        return f"daily between {draw(clocks)} and {draw(clocks)}"
    if kind in ("daily after", "daily before", "daily starting"):
        return f"{kind} {draw(clocks)}"
    if kind == "daily at":
        return f"daily at {draw(st.sampled_from(_HOURS)):02d}:00"
    if kind == "hourly between":
        return f"hourly between {draw(minute_marks)} and {draw(minute_marks)}"
    if kind == "hourly after":
        return f"hourly after {draw(minute_marks)}"
    return f"weekly on {draw(st.sampled_from(('Sunday', 'Monday', 'Saturday')))}"


@st.composite
def after(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(("one", "one", "all", "any")))
    verb = draw(st.sampled_from(("", "", " failed", " finished")))
    if kind == "one":
        return f"after task '{draw(names)}'{verb}"
    x, y = draw(st.lists(names, min_size=2, max_size=2, unique=True))
    word = "tasks" if kind == "all" else "any tasks"
    return f"after {word} '{x}', '{y}'{verb}"


cron = st.sampled_from(_CRONS).map(lambda e: f"cron {e}")
retry_cond = st.sampled_from(("retry(1)", "retry(2)"))


def trigger_atom(recent: bool) -> st.SearchStrategy[str]:
    """``recent``: also the conditions that read the engine's recent runs."""
    return st.one_of(every(), period(), cron, after(), *([retry_cond] if recent else []))


@st.composite
def trigger(draw: st.DrawFn, recent: bool = True) -> str:
    first = draw(trigger_atom(recent))
    if draw(st.integers(0, 4)) == 0:
        return f"({first} | {draw(trigger_atom(recent))})"
    return first


@st.composite
def filter_atom(draw: st.DrawFn, recent: bool = True) -> str:
    kinds = ("window", "status", "status", "count", "count", "after", "scheduler")
    kind = draw(st.sampled_from(kinds if recent else ("window", "status", "after", "scheduler")))
    if kind == "scheduler":
        span = draw(st.sampled_from((1, 6, 12, 36))) * GRID // 60
        forms = [f"scheduler has run over {span} minutes"]
        if "scheduler_age_edge" not in KNOWN_ENGINE_BUGS:
            forms.append(f"scheduler started {span} minutes ago")
        return draw(st.sampled_from(forms))
    if kind == "window":
        if draw(st.booleans()):
            return f"time of day between {draw(clocks)} and {draw(clocks)}"
        return f"time of day after {draw(clocks)}"
    who = draw(st.sampled_from(("", "", f"task '{draw(names)}' ")))
    if kind == "status":
        verb = draw(st.sampled_from(("succeeded", "failed", "finished", "started")))
        scopes = (" today", " this hour", " in past 30 minutes", " in past 1 hour", "")
        scope = draw(st.sampled_from(scopes if recent else scopes[:2] + scopes[4:]))
        if verb == "started" and not recent:
            verb = "finished"
        return f"{who}has {verb}{scope}"
    if kind == "count":
        verb = draw(st.sampled_from(("succeeded", "failed", "started")))
        scope = draw(st.sampled_from((" today", " this hour", " in past 1 hour")))
        op = draw(st.sampled_from(("<", ">=", "<=", "==", "!=")))
        return f"{who}has {verb}{scope} {op} {draw(st.integers(0, 3))}"
    return draw(after())


@st.composite
def filter_expr(draw: st.DrawFn, recent: bool = True) -> str:
    atom = draw(filter_atom(recent))
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return f"~({atom})"
    if shape == 1:
        return f"({atom} | {draw(filter_atom(recent))})"
    return atom


@st.composite
def condition(draw: st.DrawFn, recent: bool = True) -> str:
    """A start condition; ``recent=False``: none that reads the engine's recent runs
    (counts, ``retry(n)``, ``in past``, ``has started ...``)."""
    parts = [draw(trigger(recent))]
    parts += draw(st.lists(filter_expr(recent), max_size=2))
    return " & ".join(parts)


@st.composite
def retry_options(draw: st.DrawFn) -> dict[str, object]:
    retries = draw(st.sampled_from((0, 0, 1, 2)))
    if not retries:
        return {}
    delays = (0,) if "retry_survives_success" in KNOWN_ENGINE_BUGS else (0, 1, 2, 6)
    return {"retries": retries, "retry_delay": draw(st.sampled_from(delays)) * GRID,
            "backoff": draw(st.sampled_from((1.0, 2.0)))}


#: Clock advances, in grid steps: a few minutes, hours, up to two days.
spans = st.one_of(st.integers(1, 12), st.integers(13, 96), st.integers(97, 600))
