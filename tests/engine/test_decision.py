"""``decide``, the one place that says whether a task starts, without an engine: a task,
its pending state and a condition context in, a decision out."""

from __future__ import annotations

from datetime import UTC

import pytest

from tui_sched import App
from tui_sched.conditions.context import Context
from tui_sched.engine import crashes
from tui_sched.engine.decision import (
    IDLE,
    JITTER,
    SKIP,
    SKIP_JITTERED,
    START,
    START_CATCH_UP,
    START_CAUGHT_UP,
    START_FORCED,
    START_JITTERED,
    START_RETRY,
    Act,
    TaskState,
    decide,
    wait_until,
)
from tui_sched.engine.status import StatusIndex
from tui_sched.store.base import Outcome, RunRecord, Trigger
from tui_sched.tasks.task import Task

NOW = 1_772_442_000.0  # 2026-03-02 09:00 UTC, a Monday


def _task(cond: str | None, **options: object) -> Task:
    app = App(state_dir=None)
    return app.task(cond, func=lambda: None, name="t", execution="main", **options)


def _ctx(status: StatusIndex | None = None, now: float = NOW, started: float = NOW) -> Context:
    return Context(now, UTC, None, status or StatusIndex(), started)


def _running() -> StatusIndex:
    status = StatusIndex()
    status.started("t", NOW - 15)
    return status


def test_the_condition_decides_when_nothing_is_pending() -> None:
    assert decide(_task("every 10 seconds"), None, _ctx(), None, 1.0) is START
    status = StatusIndex()
    status.started("t", NOW - 4)
    status.finished("t", NOW - 4, NOW - 3, Outcome.SUCCESS)
    assert decide(_task("every 10 seconds"), None, _ctx(status), None, 1.0) == wait_until(NOW + 6)
    assert decide(_task("after task 'x'"), None, _ctx(status), None, 1.0) is IDLE


def test_a_run_in_progress_holds_a_start_and_a_due_one_is_skipped() -> None:
    task = _task("every 10 seconds")
    assert decide(task, None, _ctx(_running()), None, 1.0) is IDLE
    assert decide(task, None, _ctx(_running()), NOW, 1.0) is SKIP
    multi = _task("every 10 seconds", multilaunch=True)
    assert decide(multi, None, _ctx(_running()), NOW, 1.0) is START


def test_force_comes_first_and_ignores_disabled() -> None:
    task = _task(None, disabled=True, force_run=True)
    assert decide(task, TaskState(backoff_until=NOW + 60), _ctx(), None, 1.0) is START_FORCED
    assert decide(task, None, _ctx(_running()), None, 1.0) is IDLE


def test_a_retry_starts_at_its_time_and_otherwise_sets_the_wake_up() -> None:
    task = _task("daily", retries=2)
    state = TaskState(retry=(NOW + 30, 2))
    status = StatusIndex()
    status.started("t", NOW - 1)
    status.finished("t", NOW - 1, NOW, Outcome.FAIL)
    assert decide(task, state, _ctx(status), None, 1.0) == wait_until(NOW + 30)
    assert decide(task, state, _ctx(status, NOW + 30), None, 1.0) is START_RETRY
    task.disabled = True  # no retry runs while the task is disabled: it waits
    assert decide(task, state, _ctx(status, NOW + 30), None, 1.0) is IDLE
    task.disabled = False
    assert decide(task, state, _ctx(status, NOW + 60), None, 1.0) is START_RETRY


def test_a_crash_back_off_holds_the_condition_but_not_force() -> None:
    task = _task("daily")
    state = TaskState()
    until = state.crashed(NOW, *crashes.backoff(task))
    assert until == NOW + 10
    assert decide(task, state, _ctx(), None, 1.0) == wait_until(NOW + 10)
    assert decide(task, state, _ctx(now=NOW + 10), None, 1.0) is START
    assert state.crashed(NOW, *crashes.backoff(task)) == NOW + 20  # doubled
    state.succeeded()
    assert decide(task, state, _ctx(), None, 1.0) is START


@pytest.mark.parametrize(("delay", "max_delay", "expected"), [
    (None, None, (10.0, 3600.0)), ("1 minute", None, (60.0, 3600.0)),
    ("1 minute", "5 minutes", (60.0, 300.0)),
])
def test_the_crash_back_off_follows_the_retry_options(
        delay: str | None, max_delay: str | None, expected: tuple[float, float]) -> None:
    options = {k: v for k, v in (("retry_delay", delay), ("max_delay", max_delay)) if v}
    assert crashes.backoff(_task("daily", **options)) == expected


def test_a_catch_up_runs_as_scheduled_when_its_condition_holds_anyway() -> None:
    status = StatusIndex()
    status.started("t", NOW - 86400)
    status.finished("t", NOW - 86400, NOW - 86399, Outcome.SUCCESS)
    state = TaskState(catch_up=True)
    assert decide(_task("daily"), state, _ctx(status), None, 1.0) is START_CAUGHT_UP
    window = _task("daily between 02:00 and 03:00")
    assert decide(window, state, _ctx(status), None, 1.0) is START_CATCH_UP
    assert START_CATCH_UP.trigger is Trigger.CATCH_UP


def test_a_jittered_start_waits_for_its_time_and_is_dropped_by_disabling() -> None:
    task = _task("daily", jitter="1 minute")
    assert decide(task, None, _ctx(), None, 1.0) is JITTER
    state = TaskState(jitter=(NOW + 20, NOW))
    assert decide(task, state, _ctx(), None, 1.0) == wait_until(NOW + 20)
    assert decide(task, state, _ctx(now=NOW + 20), None, 1.0) is START_JITTERED
    assert decide(task, state, _ctx(_running(), NOW + 20), None, 1.0) is SKIP_JITTERED
    state.disabled()
    assert state.jitter is None


def test_a_task_born_after_start_up_is_not_owed_a_cron_slot_that_fired_before() -> None:
    task = _task("cron 0 * * * *")
    half_past = NOW + 1800
    ctx = _ctx(now=half_past, started=NOW)
    assert decide(task, None, ctx, None, 1.0) is START  # 09:00 fired after the start
    born = decide(task, TaskState(born=half_past), ctx, None, 1.0)
    assert born == wait_until(NOW + 3600)
    assert ctx.scheduler_started == NOW  # put back


def test_a_condition_that_raises_is_reported_and_polled() -> None:
    app = App(state_dir=None)

    @app.cond("is broken")
    def broken() -> bool:
        raise RuntimeError("no")

    task = app.task("is broken", func=lambda: None, name="t", execution="main")
    decision = decide(task, None, _ctx(), None, 2.0)
    assert decision.act is Act.WAIT and decision.at == NOW + 2.0
    assert decision.error is not None and "no" in decision.error and decision.trace


def test_crashes_in_a_row_pass_over_rows_of_starts_that_never_ran() -> None:
    def row(outcome: Outcome) -> RunRecord:
        return RunRecord(1, "t", Trigger.SCHEDULED, NOW, NOW, outcome)

    newest_first = [row(Outcome.CRASH), row(Outcome.MISSED), row(Outcome.CRASH),
                    row(Outcome.SUCCESS), row(Outcome.CRASH)]
    assert crashes.in_a_row(newest_first) == 2
    assert crashes.in_a_row([]) == 0
