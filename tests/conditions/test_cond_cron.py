"""``cron`` and ``crontime``: syntax, slots, the Vixie rule and the DST matrix."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from condtest import Statuses, at

from tui_sched import conds
from tui_sched.conditions import parse_condition
from tui_sched.conditions.base import Condition
from tui_sched.conditions.cron import Cron, next_fire
from tui_sched.conditions.localtime import local_naive
from tui_sched.errors import ConditionSyntaxError
from tui_sched.store.base import Outcome


@pytest.mark.parametrize(
    ("text", "obj"),
    [
        ("cron */5 * * * *", conds.cron("*/5 * * * *")),
        ("cron */5 * * * *", conds.cron(minute="*/5")),
        ("cron 0 9-17 * * mon-fri", conds.cron(minute="0", hour="9-17", day_of_week="mon-fri")),
        ("cron @daily", conds.cron("@daily")),
        ("crontime 0 10 * * *", conds.crontime("0 10 * * *")),
    ],
)
def test_cron_forms(text: str, obj: Condition) -> None:
    assert parse_condition(text) == obj
    assert str(obj) == text
    assert parse_condition(str(obj)) == obj


def test_quoted_and_spaced_expressions_normalise() -> None:
    assert parse_condition("cron '0  10 * * *'") == parse_condition("cron 0 10 * * *")
    assert str(parse_condition("cron @Hourly & daily")) == "cron @hourly & daily"


def test_cron_runs_once_per_slot() -> None:
    s = Statuses()
    c = conds.cron("*/5 * * * *")
    started = at("2024-05-15 09:58")
    ctx = s.ctx(at("2024-05-15 09:59"), scheduler_started=started)
    assert not c.evaluate(ctx)  # no fire since the scheduler started
    assert c.next_change(ctx) == at("2024-05-15 10:00")
    assert c.evaluate(s.ctx(at("2024-05-15 10:00"), scheduler_started=started))
    s.finish("me", at("2024-05-15 10:00:01"), at("2024-05-15 10:00:02"), Outcome.FAIL)
    assert not c.evaluate(s.ctx(at("2024-05-15 10:03"), scheduler_started=started))
    # A slot missed entirely still makes the task due once (catch-up is engine policy).
    assert c.evaluate(s.ctx(at("2024-05-15 10:12"), scheduler_started=started))


def test_vixie_rule_day_of_month_or_day_of_week() -> None:
    fires = []
    t = at("2024-09-01 00:00")
    for _ in range(7):
        nxt = next_fire("0 0 13 * fri", t, ZoneInfo("UTC"))
        assert nxt is not None
        fires.append(local_naive(nxt, ZoneInfo("UTC")).strftime("%a %d"))
        t = nxt
    assert fires == ["Fri 06", "Fri 13", "Fri 20", "Fri 27", "Fri 04", "Fri 11", "Sun 13"]


def test_crontime_is_true_during_the_fire_minute() -> None:
    c = conds.crontime("0 10 * * *")
    s = Statuses()
    assert not c.evaluate(s.ctx(at("2024-05-15 09:59:59")))
    assert c.next_change(s.ctx(at("2024-05-15 09:59:59"))) == at("2024-05-15 10:00")
    assert c.evaluate(s.ctx(at("2024-05-15 10:00:30")))
    assert c.next_change(s.ctx(at("2024-05-15 10:00:30"))) == at("2024-05-15 10:01")
    assert not c.evaluate(s.ctx(at("2024-05-15 10:01")))


def simulate(cond: Condition, tz: str, start: float, end: float, step: float = 60) -> list[str]:
    """Run ``cond`` like a scheduler ticking every ``step`` seconds; return local start
    times (with UTC offset) of the runs it triggered."""
    s = Statuses()
    runs: list[str] = []
    t = start
    while t < end:
        ctx = s.ctx(t, tz, scheduler_started=start)
        if cond.evaluate(ctx):
            s.finish("me", t, t + 1, Outcome.SUCCESS)
            runs.append(local_naive(t, ZoneInfo(tz)).strftime("%H:%M"))
        # Jump to the next change when there is one, as the engine does; never past `step`.
        nxt = cond.next_change(s.ctx(t + 1, tz, scheduler_started=start))
        t = min(t + step, nxt) if nxt is not None and nxt > t + 1 else t + step
    return runs


CRON_DST = [
    # zone, spring day, cron in the gap, expected fire, autumn day, cron in the overlap
    ("Europe/Berlin", "2024-03-31", "30 2 * * *", "03:00", "2024-10-27", "30 2 * * *"),
    ("America/New_York", "2024-03-10", "30 2 * * *", "03:00", "2024-11-03", "30 1 * * *"),
    ("Australia/Lord_Howe", "2024-10-06", "15 2 * * *", "02:30", "2024-04-07", "45 1 * * *"),
    ("Pacific/Chatham", "2024-09-29", "0 3 * * *", "03:45", "2024-04-07", "0 3 * * *"),
]


@pytest.mark.parametrize(("tz", "day", "expr", "expected", "_a", "_b"), CRON_DST)
def test_cron_in_a_spring_gap_fires_once_at_the_first_valid_time(
    tz: str, day: str, expr: str, expected: str, _a: str, _b: str
) -> None:
    start = at(f"{day} 00:00", tz)
    assert simulate(conds.cron(expr), tz, start, start + 86400) == [expected]


@pytest.mark.parametrize(("tz", "_a", "_b", "_c", "day", "expr"), CRON_DST)
def test_cron_in_an_autumn_overlap_fires_once_at_the_first_occurrence(
    tz: str, _a: str, _b: str, _c: str, day: str, expr: str
) -> None:
    start = at(f"{day} 00:00", tz)
    runs = simulate(conds.cron(expr), tz, start, start + 26 * 3600)
    hh, mm = expr.split()[1], expr.split()[0]
    assert runs == [f"{int(hh):02d}:{int(mm):02d}"]
    # ... and at the first occurrence: the next fire seen from just after it is tomorrow.
    first = at(f"{day} {int(hh):02d}:{int(mm):02d}", tz, fold=0)
    nxt = next_fire(Cron(expr).expr, first, ZoneInfo(tz))
    assert nxt is not None and nxt - first > 23 * 3600


@pytest.mark.parametrize(("tz", "spring", "_a", "_b", "autumn", "_c"), CRON_DST)
def test_daily_runs_once_on_dst_days_by_simulation(
    tz: str, spring: str, _a: str, _b: str, autumn: str, _c: str
) -> None:
    for day in (spring, autumn):
        start = at(f"{day} 00:00", tz)
        end = at(f"{day} 23:59", tz) + 60
        assert simulate(conds.daily, tz, start, end, step=600) == ["00:00"]


def test_every_minute_cron_skips_the_repeated_hour() -> None:
    tz = "Europe/Berlin"
    start = at("2024-10-27 01:58", tz)
    runs = simulate(conds.cron("* * * * *"), tz, start, start + 3 * 3600 + 60)
    # 01:58 .. 02:59 once each, then the repeated 02:xx hour is skipped, then 03:00 ..
    # 01:58 .. 02:59 CEST (62 runs); the repeated 02:00 .. 02:59 CET hour is skipped;
    # then 03:00 .. 03:58 CET (59 runs).
    assert len(runs) == 121
    assert len(set(runs)) == 121
    assert runs[61:63] == ["02:59", "03:00"]


# -- expressions that never fire are refused when the condition is made (item 11) ------
@pytest.mark.parametrize(
    ("text", "caret_under", "reason", "suggestion"),
    [
        ("cron 0 0 30 2 *", "30", "day 30 never occurs in February", "0 0 L 2 *"),
        ("daily & cron '0 0 31 4,6,9,11 *'", "31",
         "day 31 never occurs in April, June, September, November", "0 0 L 4,6,9,11 *"),
        ("crontime 0 0 30,31 feb *", "30,31", "day 30 or 31 never occurs in February",
         "0 0 L feb *"),
    ],
)
def test_a_cron_expression_that_never_fires_is_a_syntax_error(
    text: str, caret_under: str, reason: str, suggestion: str
) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    err = info.value
    assert text[err.position:].startswith(caret_under)
    assert reason in err.expected
    assert err.suggestion == suggestion
    assert f"did you mean {suggestion!r}?" in str(err)


@pytest.mark.parametrize("expr", ["0 0 29 2 *", "0 0 30 2 mon", "0 0 L 2 *", "0 0 31 * *"])
def test_rare_but_real_dates_are_accepted(expr: str) -> None:
    assert str(parse_condition(f"cron {expr}")) == f"cron {expr}"


def test_the_object_spelling_refuses_a_date_that_never_comes() -> None:
    with pytest.raises(ValueError, match=r"never fires: day 31 never occurs in February"):
        conds.cron(day_of_month="31", month="2")
