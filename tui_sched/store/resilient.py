"""Keep scheduling when the history file fails (locked, read-only, full, corrupt).

``open_history`` moves a corrupt file aside (never deletes it) and starts a new one; when
the file cannot be used at all it falls back to memory. ``ResilientStore`` wraps the
store the engine writes to: the first failure switches it to memory, says so once, and
the scheduler carries on (its status index is in memory anyway).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from tui_sched.errors import StoreError
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

T = TypeVar("T")
Report = Callable[[str], None]

_CORRUPT_HINTS = ("not a database", "malformed", "corrupt", "file is encrypted")


def open_history(path: Path, report: Report) -> RunStore:
    """Open the SQLite history at ``path``; never raise.

    A corrupt file is renamed to ``<name>.corrupt-<timestamp>`` and a new one created; any
    other failure gives an in-memory store. ``report`` hears about either.
    """
    try:
        return SqliteRunStore(path)
    except StoreError as exc:
        if any(h in str(exc).lower() for h in _CORRUPT_HINTS) and path.exists():
            aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            try:
                os.replace(path, aside)
                for suffix in ("-wal", "-shm"):
                    side = path.with_name(path.name + suffix)
                    if side.exists():
                        os.replace(side, aside.with_name(aside.name + suffix))
                report(f"the history file {path} was corrupt; it was moved to {aside} and "
                       "a new one started")
                return SqliteRunStore(path)
            except (OSError, StoreError) as again:
                exc = again if isinstance(again, StoreError) else StoreError(str(again))
        report(f"{exc}; history is kept in memory only and will not survive a restart")
        return MemoryRunStore()


class ResilientStore(RunStore):
    """A store that degrades to memory on the first write failure instead of raising.

    Args:
        primary: The real store.
        report: Told (once) when the store degrades.
    """

    def __init__(self, primary: RunStore, report: Report | None = None) -> None:
        self._store = primary
        self.report: Report | None = report
        self.degraded = isinstance(primary, MemoryRunStore)
        self.pending_notes: list[str] = []
        """Problems found before anyone listened (opening the file); the engine reports them."""

    def _call(self, fn: Callable[..., T], *args: Any, fallback: Callable[[], T]) -> T:
        try:
            return fn(*args)
        except StoreError as exc:
            self._degrade(exc)
            return fallback()

    def _degrade(self, exc: StoreError) -> None:
        if self.degraded:
            return
        self.degraded = True
        memory = MemoryRunStore()
        memory.seed_ids(self._last_id)
        self._store = memory
        if self.report is not None:
            self.report(f"{exc}; history is no longer persisted (kept in memory until "
                        "restart); the scheduler carries on")

    _last_id = 0

    # The calls of every run are spelled out rather than going through ``_call``:
    # they are on the engine's hot path, where a fallback closure per call shows.

    def next_run_id(self) -> int:
        try:
            run_id = self._store.next_run_id()
        except StoreError as exc:
            self._degrade(exc)
            run_id = self._store.next_run_id()
        self._last_id = run_id
        return run_id

    def start_run(self, record: RunRecord) -> None:
        try:
            self._store.start_run(record)
        except StoreError as exc:
            self._degrade(exc)
            self._store.start_run(record)

    def begin_run(self, task: str, trigger: Trigger, start: float, attempt: int = 1) -> RunRecord:
        try:
            record = self._store.begin_run(task, trigger, start, attempt)
        except StoreError as exc:
            self._degrade(exc)
            record = self._store.begin_run(task, trigger, start, attempt)
        self._last_id = record.id
        return record

    def finish_run(self, run_id: int, end: RunEnd) -> None:
        try:
            self._store.finish_run(run_id, end)
        except StoreError as exc:
            self._degrade(exc)
            try:
                self._store.finish_run(run_id, end)
            except StoreError:
                pass  # its start was in the failed file: nothing to close here

    def flush(self) -> None:
        self._call(self._store.flush, fallback=lambda: None)

    def wait_written(self) -> None:
        self._call(self._store.wait_written, fallback=lambda: None)

    def close_open_runs(self, at: float, outcome: Outcome, error: str) -> list[RunRecord]:
        return self._call(self._store.close_open_runs, at, outcome, error, fallback=list)

    def history(self, task: str | None = None, limit: int = 100,
                before_id: int | None = None) -> list[RunRecord]:
        return self._call(self._store.history, task, limit, before_id, fallback=list)

    def summaries(self) -> list[TaskSummary]:
        return self._call(self._store.summaries, fallback=list)

    def get_flags(self) -> dict[str, bool]:
        return self._call(self._store.get_flags, fallback=dict)

    def set_flag(self, task: str, disabled: bool) -> None:
        self._call(self._store.set_flag, task, disabled,
                   fallback=lambda: self._store.set_flag(task, disabled))

    def save_tasks(self, tasks: list[TaskInfo]) -> None:
        self._call(self._store.save_tasks, tasks, fallback=lambda: self._store.save_tasks(tasks))

    def tasks(self) -> list[TaskInfo]:
        return self._call(self._store.tasks, fallback=list)

    def prune(self, keep_per_task: int | None, older_than: float | None,
              tasks: Iterable[str] | None = None) -> int:
        return self._call(self._store.prune, keep_per_task, older_than, tasks,
                          fallback=lambda: 0)

    def set_meta(self, key: str, value: str) -> None:
        self._call(self._store.set_meta, key, value,
                   fallback=lambda: self._store.set_meta(key, value))

    def get_meta(self, key: str) -> str | None:
        return self._call(self._store.get_meta, key, fallback=lambda: None)

    def close(self) -> None:
        try:
            self._store.close()
        except StoreError:
            pass
