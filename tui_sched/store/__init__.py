"""Run history behind one interface: SQLite (default) and in memory."""

from __future__ import annotations

from tui_sched.store.base import (
    Outcome,
    RunEnd,
    RunRecord,
    RunStore,
    TaskInfo,
    TaskSummary,
    Trigger,
)
from tui_sched.store.memory import MemoryRunStore
from tui_sched.store.sqlite import SqliteRunStore

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
