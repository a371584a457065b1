"""What the UI shows: the snapshot values (``engine.snapshot``) and their formatting.

The values and their builders live in ``tui_sched.engine.snapshot`` because the control
socket sends the same snapshots to an attached UI; they are re-exported here for the
widgets. Nothing here imports Textual.
"""

from __future__ import annotations

import math
from datetime import datetime, tzinfo

from tui_sched.engine.snapshot import (
    OUTCOME_SYMBOLS,
    STRIP_LEN,
    Facts,
    RowMemo,
    RunTuple,
    Snapshot,
    Status,
    TaskDetail,
    TaskRow,
    build_detail,
    build_snapshot,
    earlier_runs,
    fmt_value,
    outcome_status,
    seed_runs,
)

__all__ = [
    "OUTCOME_SYMBOLS", "STRIP_LEN", "Facts", "RowMemo", "RunTuple", "Snapshot", "Status",
    "TaskDetail", "TaskRow", "build_detail", "build_snapshot", "earlier_runs", "fmt_clock",
    "fmt_duration", "fmt_left", "fmt_value",
    "haystack", "last_text", "matches", "next_text", "outcome_status", "seed_runs",
    "state_label", "status_text", "strip_text",
]


# -- formatting (pure) -------------------------------------------------------------------
def fmt_clock(ts: float | None, now: float, tz: tzinfo) -> str:
    """``HH:MM:SS`` today, else ``02 Mar 09:00``; ``-`` for none."""
    if ts is None:
        return "-"
    when = datetime.fromtimestamp(ts, tz)
    if when.date() == datetime.fromtimestamp(now, tz).date():
        return when.strftime("%H:%M:%S")
    return when.strftime("%d %b %H:%M")


def fmt_duration(seconds: float | None) -> str:
    """Compact duration: ``0.21s``, ``12s``, ``3m05s``, ``2h04m``, ``3d02h``."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.2f}s"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def fmt_left(seconds: float) -> str:
    """Time left, as ``systemctl list-timers``' LEFT: ``4s``, ``3m05s``, ``2h04m``, ``3d02h``."""
    s = max(0, math.ceil(seconds))
    if s < 60:
        return f"{s}s"
    return fmt_duration(s)


def next_text(row: TaskRow, now: float, tz: tzinfo, disabled: frozenset[str] = frozenset()) -> str:
    """The "next" column: the next run where it can be known (with the time left), else
    what the task waits for.

    A task that depends on other tasks runs after them: its wake-up time is only when
    its time window may open or close, not a run, so the dependency is shown instead
    (marked ``⊘`` when the task it waits for is disabled, i.e. will not run).
    """
    if row.running_since is not None:
        return f"running {fmt_duration(now - row.running_since)}"
    if row.queued:
        return "next tick"
    if row.disabled:
        return "disabled"
    if not row.condition:
        return "forced only"
    if row.waits_for:
        return "after " + ", ".join(f"{name} ⊘" if name in disabled else name for name in row.waits_for)
    if row.next_wake is not None:
        if row.next_wake <= now:
            return "due"
        return f"{fmt_clock(row.next_wake, now, tz)} in {fmt_left(row.next_wake - now)}"
    return "on event"


def status_text(row: TaskRow, now: float) -> str:
    """Symbol and word (and elapsed time while running)."""
    status = row.status
    text = f"{status.symbol} {status.value}"
    if row.running_since is not None:
        text += f" {fmt_duration(now - row.running_since)}"
    return text


def last_text(row: TaskRow, now: float, tz: tzinfo) -> str:
    """When the last run started (as in the detail view and ``list-timers``' LAST), how
    it ended, and how long it took."""
    if row.last_outcome is None:
        return "never"
    symbol = OUTCOME_SYMBOLS[row.last_outcome]
    start = row.last_start if row.last_start is not None else row.last_end
    return f"{fmt_clock(start, now, tz)} {symbol} {fmt_duration(row.last_duration)}"


def strip_text(row: TaskRow) -> str:
    """The recent outcomes as symbols, oldest first."""
    return "".join(OUTCOME_SYMBOLS[o] for o in row.strip)


def haystack(row: TaskRow) -> str:
    """What the filter searches: name, status and condition, lower-cased."""
    return f"{row.name}\n{row.status.value}\n{row.condition}".lower()


def matches(row: TaskRow, query: str) -> bool:
    """Whether every word of ``query`` occurs in the name, status or condition."""
    hay = haystack(row)
    return all(word in hay for word in query.lower().split())


def state_label(state: str) -> str:
    """The engine state as the header says it."""
    return {"stopping": "shutting down", "restarting": "restarting"}.get(state, state)
