"""Run history behind one interface: SQLite (default) and in memory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_sched.store.base import (
    Outcome,
    RunEnd,
    RunRecord,
    RunStore,
    TaskInfo,
    TaskSummary,
    Trigger,
)

if TYPE_CHECKING:
    from tui_sched.store.memory import MemoryRunStore
    from tui_sched.store.sqlite import SqliteRunStore


def __getattr__(name: str) -> Any:
    # The backends load on first use: the record types above are imported by modules
    # (conditions, the engine) that never need sqlite3 or the memory backend.
    if name == "MemoryRunStore":
        from tui_sched.store.memory import MemoryRunStore

        return MemoryRunStore
    if name == "SqliteRunStore":
        from tui_sched.store.sqlite import SqliteRunStore

        return SqliteRunStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MemoryRunStore",
    "Outcome",
    "RunEnd",
    "RunRecord",
    "RunStore",
    "SqliteRunStore",
    "TaskInfo",
    "TaskSummary",
    "Trigger",
]
