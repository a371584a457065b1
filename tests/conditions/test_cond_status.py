"""Status, dependency, running, retry and session-fact conditions."""

from __future__ import annotations

import pytest
from condtest import Statuses, at

from tui_sched import conds
from tui_sched.conditions import parse_condition
from tui_sched.conditions.base import Condition
from tui_sched.store.base import Outcome

T0 = at("2024-05-15 12:00")

FORMS = [
    ("after task 'a' & after task 'b'", conds.after_all_success("a", "b")),
    ("after tasks 'a', 'b'", conds.after_all_success("a", "b")),
    ("after tasks 'a', 'b' failed", conds.after_all_fail("a", "b")),
    ("after any tasks 'a', 'b'", conds.after_any_success("a", "b")),
    ("after any tasks 'a', 'b' finished", conds.after_any_finish("a", "b")),
    ("after task 'a' terminated", conds.after_terminate("a")),
    ("has succeeded", conds.succeeded),
    ("has failed today", conds.failed.today),
    ("task 'x' has failed today", conds.failed("x").today),
    ("task 'x' has started this week between Monday and Wednesday",
     conds.started("x").this_week.between("Mon", "Wed")),
    ("has finished this hour after 30:00", conds.finished.this_hour.after("30:00")),
    ("has terminated this month on 1st", conds.terminated.this_month.on("1st")),
    ("has inacted this minute", conds.inacted.this_minute),
    ("has crashed in past 1 hour", conds.crashed.in_past("1 hour")),
    ("has failed past 1 hour", conds.failed.in_past(3600)),
    ("has failed today >= 3", conds.failed.today >= 3),
    ("task 'x' has succeeded today < 2", conds.succeeded("x").today < 2),
    ("has failed today == 0", conds.failed.today.count_is(0)),
    ("running", conds.running),
    ("task 'x' is running", conds.running("x")),
    ("while task 'x' is running", conds.running("x")),
    ("running more than 10 minutes", conds.running.more_than("10 minutes")),
    ("task 'x' is running less than 1 hour", conds.running("x").less_than("1h")),
    ("running <= 4", conds.running <= 4),
    ("running > 1", conds.running > 1),
    ("retry(3)", conds.retry(3)),
    ("daily | retry(2)", conds.daily | conds.retry(2)),
    ("scheduler has run over 10 minutes", conds.scheduler_running(more_than="10 minutes")),
    ("scheduler started 10 minutes ago", conds.scheduler_running(less_than=600)),
    ("scheduler has more than 5 cycles", conds.scheduler_cycles(more_than=5)),
    ("scheduler has less than 5 cycles", conds.scheduler_cycles(less_than=5)),
    ("env 'prod'", conds.env("prod")),
    ("param 'x' exists", conds.param_exists("x")),
    ("param 'x' is 'y'", conds.param_is("x", "y")),
    ("param 'n' is 4", conds.param_is("n", 4)),
]


@pytest.mark.parametrize(("text", "obj"), FORMS)
def test_string_and_object_forms_agree_and_round_trip(text: str, obj: Condition) -> None:
    cond = parse_condition(text)
    assert cond == obj
    assert parse_condition(str(cond)) == cond


def test_after_all_and_any() -> None:
    s = Statuses()
    s.finish("a", T0, T0 + 1, Outcome.SUCCESS)
    ctx = s.ctx(T0 + 2)
    assert not parse_condition("after tasks 'a', 'b'").evaluate(ctx)
    assert parse_condition("after any tasks 'a', 'b'").evaluate(ctx)
    assert parse_condition("after tasks 'a', 'b'").task_refs() == {"a", "b"}


def test_has_status_today_and_counts() -> None:
    s = Statuses()
    s.finish("me", at("2024-05-14 23:00"), at("2024-05-14 23:30"), Outcome.FAIL)
    c = conds.failed.today
    assert not c.evaluate(s.ctx(T0))
    assert conds.failed.evaluate(s.ctx(T0))  # ever
    for k in range(3):
        s.finish("me", T0 + k * 10, T0 + k * 10 + 1, Outcome.FAIL)
    assert c.evaluate(s.ctx(T0 + 100))
    assert (conds.failed.today >= 3).evaluate(s.ctx(T0 + 100))
    assert not (conds.failed.today > 3).evaluate(s.ctx(T0 + 100))
    assert (conds.failed.this_week >= 4).evaluate(s.ctx(T0 + 100))
    # Truth moves at the next day boundary.
    assert c.next_change(s.ctx(T0 + 100)) == at("2024-05-16 00:00")
    assert not c.evaluate(s.ctx(at("2024-05-16 00:00")))


def test_has_status_window_uses_the_latest_occurrence() -> None:
    s = Statuses()
    c = parse_condition("has succeeded today between 10:00 and 12:00")
    s.finish("me", at("2024-05-15 10:30"), at("2024-05-15 10:31"), Outcome.SUCCESS)
    assert c.evaluate(s.ctx(at("2024-05-15 14:00")))  # window over, still today's
    s.finish("me", at("2024-05-15 13:00"), at("2024-05-15 13:01"), Outcome.SUCCESS)
    # The latest success is outside the window; the recent runs still find the 10:31 one.
    assert c.evaluate(s.ctx(at("2024-05-15 14:00")))
    s2 = Statuses()
    s2.finish("me", at("2024-05-15 13:00"), at("2024-05-15 13:01"), Outcome.SUCCESS)
    assert not c.evaluate(s2.ctx(at("2024-05-15 14:00")))


def test_has_status_in_past_moves_with_time() -> None:
    s = Statuses()
    s.finish("x", T0, T0 + 10, Outcome.SUCCESS)
    c = parse_condition("task 'x' has succeeded in past 1 minute")
    assert c.task_refs() == {"x"}
    assert c.evaluate(s.ctx(T0 + 69.99))
    assert c.next_change(s.ctx(T0 + 69.99)) == T0 + 70
    assert not c.evaluate(s.ctx(T0 + 70))
    assert c.next_change(s.ctx(T0 + 70)) is None


def test_has_started_counts_running_runs() -> None:
    s = Statuses()
    s.start("me", T0)
    assert conds.started.today.evaluate(s.ctx(T0 + 1))
    assert not conds.finished.today.evaluate(s.ctx(T0 + 1))


def test_running_and_its_ages() -> None:
    s = Statuses()
    assert not conds.running.evaluate(s.ctx(T0))
    s.start("me", T0)
    s.start("me", T0 + 300)
    ctx = s.ctx(T0 + 400)
    assert conds.running.evaluate(ctx)
    assert (conds.running >= 2).evaluate(ctx)
    assert not (conds.running > 2).evaluate(ctx)
    long = conds.running.more_than("10 minutes")
    assert not long.evaluate(ctx)
    assert long.next_change(ctx) == T0 + 600
    assert long.evaluate(s.ctx(T0 + 600))
    short = conds.running.less_than("5 minutes")
    assert short.evaluate(ctx)  # the second run is 100 s old
    assert not short.evaluate(s.ctx(T0 + 600))
    assert not conds.running("other").evaluate(ctx)
    assert conds.running("other").task_refs() == {"other"}


@pytest.mark.parametrize(
    ("history", "n", "expected"),
    [
        ([], 1, False),
        ([Outcome.SUCCESS], 1, False),
        ([Outcome.FAIL], 0, False),
        ([Outcome.FAIL], 1, True),
        ([Outcome.FAIL, Outcome.FAIL], 1, False),
        ([Outcome.SUCCESS, Outcome.FAIL, Outcome.FAIL], 2, True),
        ([Outcome.FAIL, Outcome.SUCCESS, Outcome.FAIL], 1, True),
        ([Outcome.FAIL, Outcome.MISSED, Outcome.FAIL], 1, False),
    ],
)
def test_retry(history: list[Outcome], n: int, expected: bool) -> None:
    s = Statuses()
    for k, outcome in enumerate(history):
        s.finish("me", T0 + k, T0 + k + 0.5, outcome)
    assert conds.retry(n).evaluate(s.ctx(T0 + 100)) is expected


def test_scheduler_conditions() -> None:
    s = Statuses()
    started = T0
    over = parse_condition("scheduler has run over 10 minutes")
    ago = parse_condition("scheduler started 10 minutes ago")
    ctx = s.ctx(T0 + 60, scheduler_started=started, cycles=3)
    assert not over.evaluate(ctx) and ago.evaluate(ctx)
    assert over.next_change(ctx) == T0 + 600
    late = s.ctx(T0 + 601, scheduler_started=started)
    assert over.evaluate(late) and not ago.evaluate(late)
    assert parse_condition("scheduler has more than 2 cycles").evaluate(ctx)
    assert not parse_condition("scheduler has less than 3 cycles").evaluate(ctx)
    nc = parse_condition("scheduler has more than 5 cycles").next_change(ctx)
    assert nc == ctx.now + ctx.poll_interval


def test_env_and_params() -> None:
    s = Statuses()
    ctx = s.ctx(T0, env="prod", params={"x": "y", "n": 4, "none": None}, poll_interval=5)
    assert parse_condition("env 'prod'").evaluate(ctx)
    assert not parse_condition("env 'dev'").evaluate(ctx)
    assert parse_condition("param 'x' exists").evaluate(ctx)
    assert not parse_condition("param 'none' exists").evaluate(ctx)
    assert not parse_condition("param 'nope' exists").evaluate(ctx)
    assert parse_condition("param 'x' is 'y'").evaluate(ctx)
    assert not parse_condition("param 'x' is 'z'").evaluate(ctx)
    assert parse_condition("param 'n' is 4").evaluate(ctx)
    assert parse_condition("param 'x' is 'y'").next_change(ctx) == T0 + 5


@pytest.mark.parametrize(
    "bad", ["daily >= 3", "has flailed today", "retry(x)", "retry 3", "task 'x' was running",
            "scheduler has run 10 minutes", "has failed today >= many"],
)
def test_status_syntax_errors(bad: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_condition(bad)
