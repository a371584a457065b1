"""Property: every generated condition prints to a string that parses back to it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui_sched import conds
from tui_sched.conditions import parse_condition
from tui_sched.conditions.base import Condition
from tui_sched.conditions.cron import Cron
from tui_sched.conditions.periods import Every, Period, TimeOf
from tui_sched.conditions.scheduler import Env, ParamExists, ParamIs, SchedulerAge
from tui_sched.conditions.status import After, Compare, HasStatus, Retry, Running
from tui_sched.conditions.windows import WEEKDAYS, Window, ordinal

names = st.text(st.characters(blacklist_characters="'"), min_size=1, max_size=12)
spans = st.integers(1, 10**9).map(lambda ms: ms / 1000)


@st.composite
def windows(draw: st.DrawFn, units: tuple[str, ...]) -> Window:
    unit = draw(st.sampled_from(units))
    value = {
        "day": st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23),
                         st.integers(0, 59)),
        "hour": st.builds(lambda m, s: f"{m:02d}:{s:02d}", st.integers(0, 59),
                          st.integers(0, 59)),
        "minute": st.integers(0, 59).map(str),
        "week": st.sampled_from(WEEKDAYS),
        "month": st.integers(1, 31).map(ordinal),
    }[unit]
    kind = draw(st.sampled_from(["full", "between", "after", "before", "starting", "on"]))
    start = draw(value) if kind in ("between", "after", "starting", "on") else None
    end = draw(value) if kind in ("between", "before") else None
    return Window.of(unit, kind, start, end)  # type: ignore[arg-type]


WINDOW_UNITS = ("minute", "hour", "day", "week", "month")
verbs = st.sampled_from(["succeeded", "failed", "finished", "terminated", "inacted",
                         "crashed", "started"])
status = st.one_of(
    st.builds(HasStatus, verbs, st.none() | names),
    st.builds(lambda v, t, w: HasStatus(v, t, w), verbs, st.none() | names,
              windows(WINDOW_UNITS)),
    st.builds(lambda v, t, p: HasStatus(v, t, past=p), verbs, st.none() | names, spans),
    st.builds(Running, st.none() | names, st.none() | spans, st.none() | spans),
)
leaves: st.SearchStrategy[Condition] = st.one_of(
    st.sampled_from([conds.true, conds.false, conds.daily, conds.secondly, conds.running]),
    st.builds(Every, spans, st.sampled_from(["run", "success", "fail", "finish"])),
    st.builds(Period, windows(WINDOW_UNITS)),
    st.builds(TimeOf, windows(WINDOW_UNITS)),
    st.builds(After, names, st.sampled_from(["succeeded", "failed", "finished", "terminated"])),
    status,
    st.builds(Compare, status, st.sampled_from([">=", ">", "<=", "<", "==", "!="]),
              st.integers(0, 1000)),
    st.builds(Retry, st.integers(0, 20)),
    st.sampled_from([Cron("*/5 * * * *"), Cron("@daily"), Cron("0 9-17 * * mon-fri")]),
    st.builds(SchedulerAge, spans, st.booleans()),
    st.builds(Env, names), st.builds(ParamExists, names), st.builds(ParamIs, names, names),
)
conditions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda a, b: a & b, inner, inner),
        st.builds(lambda a, b: a | b, inner, inner),
        st.builds(lambda a: ~a, inner),
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(conditions)
def test_str_then_parse_gives_an_equal_condition(cond: Condition) -> None:
    text = str(cond)
    assert parse_condition(text) == cond
    assert str(parse_condition(text)) == text
