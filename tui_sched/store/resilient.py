"""Keep scheduling when the history file fails (locked, read-only, full, corrupt).

``open_history`` moves a corrupt file aside (never deletes it) and starts a new one; when
the file cannot be written it falls back to memory, starting from what the file holds.
A file that cannot even be read never means "nothing ever ran": the engine waits for it
(``ResilientStore.wait_readable``). ``ResilientStore`` wraps the store the engine writes
to: the first failure switches it to memory, says so once, and the scheduler carries on
(its status index is in memory anyway).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from tui_sched.errors import StoreError
from tui_sched.statedir import make_private_dir
from tui_sched.store.base import (
    Outcome,
    RecentRun,
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

    The state folder is made private first (see ``make_private_dir``). A corrupt file is
    renamed to ``<name>.corrupt-<timestamp>`` and a new one created. A file that cannot
    be written but can be read gives a memory store that starts from what it holds, so
    that a task that already ran today is not run again; one that cannot even be read
    gives an ``UnreadableHistory``, which the engine waits on before scheduling. With
    no history yet, a failure gives an empty memory store. ``report`` hears about each.
    """
    try:
        for warning in make_private_dir(path.parent):
            report(warning)
    except OSError:
        pass  # the store's own error below says why the folder cannot be made
    if _is_empty_file(path):
        report(f"the history file {path} was empty (0 bytes); a new history was started "
               "in it (runs recorded in it before, if any, are lost)")
    try:
        return SqliteRunStore(path)
    except StoreError as exc:
        if any(h in str(exc).lower() for h in _CORRUPT_HINTS) and path.exists():
            try:
                return _start_over(path, report)
            except (OSError, StoreError) as again:
                exc = again if isinstance(again, StoreError) else StoreError(str(again))
        return _fall_back(path, exc, report)


def _is_empty_file(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False


def _start_over(path: Path, report: Report) -> RunStore:
    """Move a corrupt history aside (with its log) and start a new one."""
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    report(f"the history file {path} was corrupt; it was moved to {aside} and "
           "a new one started")
    return SqliteRunStore(path)


def _fall_back(path: Path, exc: StoreError, report: Report) -> RunStore:
    """The history cannot be opened for writing: read what it holds if it can be read."""
    try:
        has_history = path.is_file() and path.stat().st_size > 0
    except OSError:
        has_history = True  # cannot even tell: assume the worst (see UnreadableHistory)
    if not has_history:
        report(f"{exc}; history is kept in memory only and will not survive a restart")
        return MemoryRunStore()
    try:
        snapshot = _read_snapshot(path)
    except StoreError as unreadable:
        return UnreadableHistory(path, f"{_detail(exc, path)}; reading it: "
                                       f"{_detail(unreadable, path)}")
    report(f"{exc}; the history so far was read from it, and new runs are kept in memory "
           "only (they will not survive a restart)")
    return snapshot


def _detail(exc: StoreError, path: Path) -> str:
    """A store error's message without the ``run history PATH:`` it begins with."""
    return str(exc).removeprefix(f"run history {path}: ")


def _read_snapshot(path: Path) -> MemoryRunStore:
    """What the engine needs of the history at ``path``, read without writing."""
    try:
        source = SqliteRunStore.open_readonly(path)
    except StoreError:
        # SQLite's read-only open still needs its -shm file (full disk, read-only folder).
        source = SqliteRunStore.open_immutable(path)
    try:
        return MemoryRunStore.continuing(source)
    finally:
        source.close()


class UnreadableHistory(MemoryRunStore):
    """Stands in for a history file that exists but cannot be read (locked by another
    program, I/O errors, a log that a full disk keeps from being read). An empty store
    would mean "nothing ever ran" and rerun every ``daily``: the engine instead waits
    (``ResilientStore.wait_readable``) until the file can be read.

    Attributes:
        path: The history file.
        reason: Why it cannot be read.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__()
        self.path = path
        self.reason = reason


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
        self._unreadable = primary if isinstance(primary, UnreadableHistory) else None

    @property
    def readable(self) -> bool:
        """Whether the history could be read (see ``UnreadableHistory``)."""
        return self._unreadable is None

    def wait_readable(self, stopping: Callable[[], bool], retry_every: float = 1.0) -> bool:
        """Block until the history can be read, trying again every ``retry_every``
        seconds, and say so; the engine calls it before it loads the status index and
        starts anything. Returns ``False`` if ``stopping()`` became true first."""
        waiting = self._unreadable
        if waiting is None:
            return True
        self._say(f"run history {waiting.path} cannot be read ({waiting.reason}); no task "
                  "is started until it can, so that a task that already ran is not run "
                  f"again; trying again every {retry_every:g} s")
        while True:
            deadline = time.monotonic() + retry_every
            while time.monotonic() < deadline:
                if stopping():
                    return False
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
            notes: list[str] = []
            store = open_history(waiting.path, notes.append)
            if not isinstance(store, UnreadableHistory):
                break
        self._store = store
        self._unreadable = None
        self.degraded = isinstance(store, MemoryRunStore)
        for note in notes:
            self._say(note)
        self._say(f"run history {waiting.path} can be read again; scheduling starts")
        return True

    def _say(self, message: str) -> None:
        if self.report is not None:
            self.report(message)
        else:
            self.pending_notes.append(message)

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
        if not self._index_read:
            # The engine has not read what the file knows yet (a write at start failed):
            # it must still learn it, or every task would look as if it never ran.
            try:
                memory = MemoryRunStore.continuing(self._store)
            except StoreError:
                pass
        memory.seed_ids(self._last_id)
        self._store = memory
        if self.report is not None:
            self.report(f"{exc}; history is no longer persisted (kept in memory until "
                        "restart); the scheduler carries on")

    _last_id = 0
    _index_read = False
    """The engine has read the summaries (at start): a switch to memory later need not
    copy what the file knows (the engine's index has it), which could stall it."""

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
        for note in self._store.notices():
            self._say(note)

    def wait_written(self) -> None:
        self._call(self._store.wait_written, fallback=lambda: None)

    def close_open_runs(self, at: float, outcome: Outcome, error: str) -> list[RunRecord]:
        return self._call(self._store.close_open_runs, at, outcome, error, fallback=list)

    def history(self, task: str | None = None, limit: int = 100,
                before_id: int | None = None) -> list[RunRecord]:
        return self._call(self._store.history, task, limit, before_id, fallback=list)

    def summaries(self) -> list[TaskSummary]:
        summaries: list[TaskSummary] = self._call(self._store.summaries, fallback=list)
        self._index_read = True
        return summaries

    def recent_runs(self, per_task: int, tasks: Iterable[str] | None = None
                    ) -> dict[str, list[RecentRun]]:
        return self._call(self._store.recent_runs, per_task, tasks, fallback=dict)

    def meta_items(self) -> dict[str, str]:
        return self._call(self._store.meta_items, fallback=dict)

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
