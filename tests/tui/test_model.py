"""The UI's pure values: status precedence, formatting, filtering, log lines."""

from __future__ import annotations

from datetime import UTC

from tui_sched.engine.events import LogLine, ModuleFailed, RunFinished
from tui_sched.store.base import Outcome, RunRecord, Trigger
from tui_sched.tui.logfmt import entry_for
from tui_sched.tui.model import (
    Status,
    TaskRow,
    fmt_clock,
    fmt_duration,
    last_text,
    matches,
    next_text,
    status_text,
    strip_text,
)

NOW = 1_772_442_000.0  # 2026-03-02 09:00:00 UTC


def row(**kw: object) -> TaskRow:
    base: dict[str, object] = dict(
        name="fetch", execution="thread", condition="every 10 seconds", disabled=False,
        queued=False, running_since=None, last_start=None, last_end=None, last_outcome=None,
        strip=(), next_wake=None, waits_for=())
    base.update(kw)
    return TaskRow(**base)  # type: ignore[arg-type]


def test_status_precedence_running_queued_disabled_then_last_outcome() -> None:
    assert row().status is Status.IDLE
    assert row(last_outcome=Outcome.FAIL).status is Status.FAILED
    assert row(last_outcome=Outcome.FAIL, disabled=True).status is Status.DISABLED
    assert row(disabled=True, queued=True).status is Status.QUEUED
    assert row(queued=True, running_since=NOW).status is Status.RUNNING
    assert row(last_outcome=Outcome.MISSED).status is Status.MISSED
    assert row(last_outcome=Outcome.CRASH).status is Status.CRASHED


def test_every_status_has_a_symbol_and_a_word() -> None:
    for status in Status:
        assert len(status.symbol) == 1 and status.symbol not in status.value
        assert status_text(row(), NOW).startswith("· idle")
    assert status_text(row(running_since=NOW - 75), NOW) == "▶ running 1m15s"


def test_formatting() -> None:
    assert [fmt_duration(s) for s in (None, 0.213, 12.4, 185, 7440, 266400)] == [
        "-", "0.21s", "12s", "3m05s", "2h04m", "3d02h"]
    assert fmt_clock(NOW + 15, NOW, UTC) == "09:00:15"
    assert fmt_clock(NOW + 86400, NOW, UTC) == "03 Mar 09:00"
    assert next_text(row(next_wake=NOW + 10), NOW, UTC) == "09:00:10 in 10s"
    assert next_text(row(next_wake=NOW + 185.5), NOW, UTC) == "09:03:05 in 3m06s"
    assert next_text(row(next_wake=NOW - 1), NOW, UTC) == "due"
    assert next_text(row(condition="after task 'a'", waits_for=("a",)), NOW, UTC) == "after a"
    assert next_text(row(condition=""), NOW, UTC) == "forced only"
    assert next_text(row(disabled=True), NOW, UTC) == "disabled"
    done = row(last_start=NOW - 3, last_end=NOW - 1, last_outcome=Outcome.SUCCESS)
    assert last_text(done, NOW, UTC) == "08:59:57 ✓ 2.00s"  # the start, as the detail view shows
    assert strip_text(row(strip=(Outcome.SUCCESS, Outcome.FAIL, Outcome.TERMINATE))) == "✓✗■"


def test_filter_matches_every_word_in_name_status_or_condition() -> None:
    failed = row(name="nightly_backup", condition="daily after 22:00", last_outcome=Outcome.FAIL)
    assert matches(failed, "backup")
    assert matches(failed, "FAILED daily")
    assert not matches(failed, "backup hourly")


def test_log_lines_carry_time_task_and_the_first_line_of_an_error() -> None:
    run = RunRecord(7, "fetch", Trigger.FORCED, NOW, NOW + 1, Outcome.FAIL,
                    error="ConnectionError: refused\nmore detail")
    entry = entry_for(RunFinished(NOW + 1, run))
    assert entry is not None and entry.level == "error"
    assert entry.line(UTC) == "09:00:01 fetch        │ ✗ fail in 1.00s: ConnectionError: refused"
    out = entry_for(LogLine(NOW, "fetch", 7, "stderr", "warning"))
    assert out is not None and out.text == "! warning"
    failed = entry_for(ModuleFailed(NOW, "/x/tasks/bad.py", "SyntaxError: bad", 4, "tb"))
    assert failed is not None and "bad.py:4 failed to load: SyntaxError: bad" in failed.text


def test_a_run_being_terminated_shows_terminating_and_skips_and_misses_are_logged() -> None:
    from tui_sched.engine.events import RunRecorded, RunTerminating

    assert row(running_since=NOW, terminating=True).status is Status.TERMINATING
    run = RunRecord(8, "fetch", Trigger.SCHEDULED, NOW)
    term = entry_for(RunTerminating(NOW, run, "timed out after 5 s"))
    assert term is not None and term.text == "◼ terminating: timed out after 5 s"
    skipped = RunRecord(9, "fetch", Trigger.SCHEDULED, NOW, NOW, Outcome.SKIPPED,
                        "skipped: run 8 is still in progress")
    entry = entry_for(RunRecorded(NOW, skipped))
    assert entry is not None and entry.text == "~ skipped: run 8 is still in progress"


def test_a_terminated_run_has_the_same_symbol_in_the_log_as_in_the_table() -> None:
    from tui_sched.tui.model import OUTCOME_SYMBOLS

    for outcome in (Outcome.TERMINATE, Outcome.CRASH, Outcome.FAIL, Outcome.SUCCESS):
        run = RunRecord(7, "fetch", Trigger.FORCED, NOW, NOW + 1, outcome)
        entry = entry_for(RunFinished(NOW + 1, run))
        assert entry is not None and entry.text.startswith(f"{OUTCOME_SYMBOLS[outcome]} {outcome} ")
    assert strip_text(row(strip=(Outcome.TERMINATE,))) == "■"


def test_next_shows_the_dependency_not_a_window_edge_and_marks_a_disabled_one() -> None:
    waiting = row(condition="after task 'a' & time of day between 08:00 and 20:00",
                  waits_for=("a",), next_wake=NOW + 11 * 3600)  # the window closing
    assert next_text(waiting, NOW, UTC) == "after a"
    assert next_text(waiting, NOW, UTC, frozenset({"a"})) == "after a ⊘"


def test_the_log_line_widens_its_task_column_and_cuts_long_names_with_an_ellipsis() -> None:
    from tui_sched.tui.logfmt import LogEntry

    entry = LogEntry(NOW, "a_rather_long_task_name", "hi")
    assert entry.line(UTC) == "09:00:00 a_rather_lo… │ hi"
    assert entry.line(UTC, 24) == "09:00:00 a_rather_long_task_name  │ hi"
