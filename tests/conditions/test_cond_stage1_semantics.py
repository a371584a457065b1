"""Truth and next-change of ``every``, the period words and ``after task`` at fake times."""

from __future__ import annotations

import pytest
from condtest import Statuses, at

from tui_sched import conds
from tui_sched.conditions import parse_condition
from tui_sched.store.base import Outcome

T0 = at("2024-05-15 12:00:00")


# -- every ---------------------------------------------------------------------------
def test_every_is_true_when_never_started() -> None:
    s = Statuses()
    c = conds.every("10 seconds")
    assert c.evaluate(s.ctx(T0))
    assert c.next_change(s.ctx(T0)) is None


def test_every_counts_from_the_last_start() -> None:
    s = Statuses()
    s.finish("me", T0, T0 + 3, Outcome.SUCCESS)
    c = parse_condition("every 10 seconds")
    assert not c.evaluate(s.ctx(T0 + 9.99))
    assert c.next_change(s.ctx(T0 + 5)) == T0 + 10
    assert c.evaluate(s.ctx(T0 + 10))
    assert c.next_change(s.ctx(T0 + 10)) is None


def test_every_span_is_elapsed_time_across_dst() -> None:
    # 01:59:30 CET + 1 minute of real time = 03:00:30 CEST.
    s = Statuses()
    start = at("2024-03-31 01:59:30", "Europe/Berlin")
    s.start("me", start)
    c = conds.every("1 minute")
    assert not c.evaluate(s.ctx(at("2024-03-31 03:00:29", "Europe/Berlin"), "Europe/Berlin"))
    assert c.evaluate(s.ctx(at("2024-03-31 03:00:30", "Europe/Berlin"), "Europe/Berlin"))


@pytest.mark.parametrize(
    ("based", "outcome", "resets"),
    [("success", Outcome.SUCCESS, True), ("success", Outcome.FAIL, False),
     ("fail", Outcome.FAIL, True), ("finish", Outcome.TERMINATE, True),
     ("finish", Outcome.CRASH, False)],
)
def test_every_based_on(based: str, outcome: Outcome, resets: bool) -> None:
    s = Statuses()
    s.finish("me", T0, T0 + 1, outcome)
    c = conds.every("1 minute", based=based)  # type: ignore[arg-type]
    assert c.evaluate(s.ctx(T0 + 30)) is not resets


# -- periods -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "start", "end"),
    [
        ("secondly", "2024-05-15 12:00:00", "2024-05-15 12:00:01"),
        ("minutely", "2024-05-15 12:00:00", "2024-05-15 12:01:00"),
        ("hourly", "2024-05-15 12:00:00", "2024-05-15 13:00:00"),
        ("daily", "2024-05-15 00:00:00", "2024-05-16 00:00:00"),
        ("weekly", "2024-05-13 00:00:00", "2024-05-20 00:00:00"),  # Monday to Monday
        ("monthly", "2024-05-01 00:00:00", "2024-06-01 00:00:00"),
    ],
)
def test_period_runs_once_per_period(word: str, start: str, end: str) -> None:
    s = Statuses()
    c = parse_condition(word)
    now = at("2024-05-15 12:00:00.5")
    assert c.evaluate(s.ctx(now))
    assert c.next_change(s.ctx(now)) == at(end)  # true until the period ends
    s.finish("me", now, now + 0.1, Outcome.SUCCESS)
    assert not c.evaluate(s.ctx(now + 0.2))
    assert c.next_change(s.ctx(now + 0.2)) == at(end)  # false until the next one starts
    assert c.evaluate(s.ctx(at(end)))


@pytest.mark.parametrize(
    ("outcome", "uses_up"),
    [(Outcome.SUCCESS, True), (Outcome.FAIL, True), (Outcome.TERMINATE, True),
     (Outcome.INACTION, True), (Outcome.CRASH, False)],
)
def test_which_outcomes_use_up_a_period(outcome: Outcome, uses_up: bool) -> None:
    s = Statuses()
    s.finish("me", T0, T0 + 1, outcome)
    assert conds.daily.evaluate(s.ctx(T0 + 2)) is not uses_up


def test_a_run_that_ended_yesterday_does_not_count_today() -> None:
    s = Statuses()
    s.finish("me", at("2024-05-14 23:59:00"), at("2024-05-14 23:59:59"), Outcome.SUCCESS)
    assert conds.daily.evaluate(s.ctx(at("2024-05-15 00:00:00")))
    # A run that started yesterday but ended today uses up today.
    s.finish("me", at("2024-05-14 23:59:59"), at("2024-05-15 00:00:01"), Outcome.SUCCESS)
    assert not conds.daily.evaluate(s.ctx(at("2024-05-15 00:00:02")))


def test_period_boundaries_are_in_the_session_time_zone() -> None:
    s = Statuses()
    # 23:30 in New York is 03:30 UTC the next day: still the same local day.
    s.finish("me", at("2024-05-15 20:00", "America/New_York"),
             at("2024-05-15 20:01", "America/New_York"), Outcome.SUCCESS)
    assert not conds.daily.evaluate(s.ctx(at("2024-05-15 23:30", "America/New_York"),
                                          "America/New_York"))
    assert conds.daily.next_change(s.ctx(at("2024-05-15 23:30", "America/New_York"),
                                         "America/New_York")) == at("2024-05-16 00:00",
                                                                    "America/New_York")


# -- after task ----------------------------------------------------------------------
def test_after_task_requires_the_dependency_to_have_reached_the_outcome() -> None:
    s = Statuses()
    c = conds.after_success("fetch")
    assert c.task_refs() == {"fetch"}
    assert c.next_change(s.ctx(T0)) is None
    assert not c.evaluate(s.ctx(T0))  # fetch never ran
    s.finish("fetch", T0, T0 + 5, Outcome.FAIL)
    assert not c.evaluate(s.ctx(T0 + 6))
    assert conds.after_fail("fetch").evaluate(s.ctx(T0 + 6))
    assert conds.after_finish("fetch").evaluate(s.ctx(T0 + 6))
    s.finish("fetch", T0 + 10, T0 + 15, Outcome.SUCCESS)
    assert c.evaluate(s.ctx(T0 + 16))  # this task never started: any success counts


def test_after_task_compares_with_this_tasks_last_start() -> None:
    s = Statuses()
    s.finish("fetch", T0, T0 + 5, Outcome.SUCCESS)
    s.start("me", T0 + 6)  # this task ran after it
    c = parse_condition("after task 'fetch'")
    assert not c.evaluate(s.ctx(T0 + 7))
    s.finish("fetch", T0 + 8, T0 + 9, Outcome.SUCCESS)
    assert c.evaluate(s.ctx(T0 + 10))


def test_after_finished_includes_terminate_but_not_inaction() -> None:
    s = Statuses()
    s.finish("x", T0, T0 + 1, Outcome.TERMINATE)
    s.finish("y", T0, T0 + 1, Outcome.INACTION)
    assert conds.after_finish("x").evaluate(s.ctx(T0 + 2))
    assert not conds.after_finish("y").evaluate(s.ctx(T0 + 2))


def test_combinators_report_refs_and_earliest_change() -> None:
    s = Statuses()
    s.start("me", T0)
    c = parse_condition("(every 10 seconds | after task 'a') & ~after task 'b' failed & daily")
    assert c.task_refs() == {"a", "b"}
    assert c.next_change(s.ctx(T0 + 1)) == T0 + 10
