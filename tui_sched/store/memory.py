"""``MemoryRunStore``: run history in plain dicts, for tests and throwaway sessions."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable

from tui_sched.errors import StoreError
from tui_sched.store.base import (
    Outcome,
    RunEnd,
    RunRecord,
    RunStore,
    TaskInfo,
    TaskSummary,
)

#: Rows that record a start that never happened.
_NOT_STARTED = (Outcome.MISSED, Outcome.SKIPPED)


class MemoryRunStore(RunStore):
    """A ``RunStore`` that keeps everything in memory, with the same semantics as SQLite.

    Nothing is buffered, so ``flush`` does nothing. ``close`` keeps the data and the
    store stays usable: a test can stop an engine and start another one on the same
    instance to play a restart.

    Methods may be called from several threads; a lock keeps the dicts consistent.
    """

    def __init__(self) -> None:
        self._meta: dict[str, str] = {}
        self._lock = threading.Lock()
        self._runs: dict[int, RunRecord] = {}
        # Each task's latest end per outcome: kept when runs are pruned, until the task
        # has no runs left (as SQLite's last_ends table).
        self._last_end: defaultdict[str, dict[Outcome, float]] = defaultdict(dict)
        self._open: set[int] = set()
        self._flags: dict[str, bool] = {}
        self._tasks: list[TaskInfo] = []
        self._next_id = 1

    def next_run_id(self) -> int:
        """Reserve and return a new run id, greater than any id given out or stored."""
        with self._lock:
            run_id = self._next_id
            self._next_id += 1
            return run_id

    def start_run(self, record: RunRecord) -> None:
        """Store a new run; it is open while ``record.end`` is ``None``.

        Raises:
            StoreError: A run with this id is already stored.
        """
        with self._lock:
            if record.id in self._runs:
                raise StoreError(f"in-memory run history: run id {record.id} already exists")
            self._runs[record.id] = record
            if record.end is None:
                self._open.add(record.id)
            else:
                self._ended(record)
            self._next_id = max(self._next_id, record.id + 1)

    def finish_run(self, run_id: int, end: RunEnd) -> None:
        """Close an open run.

        Raises:
            StoreError: No open run has this id (unknown, or already finished).
        """
        with self._lock:
            if run_id not in self._open:
                raise StoreError(f"in-memory run history: no open run with id {run_id}")
            self._open.discard(run_id)
            record = self._runs[run_id] = dataclasses.replace(
                self._runs[run_id],
                end=end.end,
                outcome=end.outcome,
                error=end.error,
                traceback=end.traceback,
                return_summary=end.return_summary,
                output_tail=end.output_tail,
            )
            self._ended(record)

    def _ended(self, record: RunRecord) -> None:
        if record.end is not None and record.outcome is not None:
            ends = self._last_end[record.task]
            ends[record.outcome] = max(record.end, ends.get(record.outcome, record.end))

    def seed_ids(self, last_id: int) -> None:
        """Hand out ids above ``last_id`` (when taking over from another store)."""
        with self._lock:
            self._next_id = max(self._next_id, last_id + 1)

    def set_meta(self, key: str, value: str) -> None:
        """Store a scheduler fact."""
        self._meta[key] = value

    def get_meta(self, key: str) -> str | None:
        """A scheduler fact, or ``None``."""
        return self._meta.get(key)

    def flush(self) -> None:
        """Nothing to do: every write is already applied."""

    def close_open_runs(self, at: float, outcome: Outcome, error: str) -> list[RunRecord]:
        """Close every open run at ``at`` with ``outcome`` and ``error``; oldest id first."""
        with self._lock:
            closed = []
            for run_id in sorted(self._open):
                record = dataclasses.replace(
                    self._runs[run_id], end=at, outcome=outcome, error=error
                )
                self._runs[run_id] = record
                self._ended(record)
                closed.append(record)
            self._open.clear()
            return closed

    def history(
        self, task: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[RunRecord]:
        """Runs, newest (highest id) first, optionally of one task and below ``before_id``."""
        with self._lock:
            result: list[RunRecord] = []
            if limit <= 0:
                return result
            for run_id in sorted(self._runs, reverse=True):
                if before_id is not None and run_id >= before_id:
                    continue
                record = self._runs[run_id]
                if task is not None and record.task != task:
                    continue
                result.append(record)
                if len(result) == limit:
                    break
            return result

    def summaries(self) -> list[TaskSummary]:
        """One summary per task that has runs, sorted by task name."""
        with self._lock:
            last_start: dict[str, float] = {}
            counts: dict[str, int] = defaultdict(int)
            for run_id in sorted(self._runs):
                record = self._runs[run_id]
                counts[record.task] += 1
                if record.outcome not in _NOT_STARTED:
                    last_start[record.task] = record.start  # the newest run wins
            return [
                TaskSummary(
                    task=task,
                    last_start=last_start.get(task),
                    last_end=dict(self._last_end.get(task, {})),
                    run_count=counts[task],
                )
                for task in sorted(counts)
            ]

    def get_flags(self) -> dict[str, bool]:
        """Persisted ``disabled`` flags by task name."""
        with self._lock:
            return dict(self._flags)

    def set_flag(self, task: str, disabled: bool) -> None:
        """Persist a task's ``disabled`` flag."""
        with self._lock:
            self._flags[task] = disabled

    def save_tasks(self, tasks: list[TaskInfo]) -> None:
        """Replace the stored task list.

        Raises:
            StoreError: Two entries share a name; the stored list is left unchanged.
        """
        duplicates = sorted(n for n, c in Counter(t.name for t in tasks).items() if c > 1)
        if duplicates:
            raise StoreError(f"in-memory run history: duplicate task names {duplicates}")
        with self._lock:
            self._tasks = list(tasks)

    def tasks(self) -> list[TaskInfo]:
        """The stored task list, in the order it was saved."""
        with self._lock:
            return list(self._tasks)

    def prune(self, keep_per_task: int | None, older_than: float | None,
              tasks: Iterable[str] | None = None) -> int:
        """Delete finished runs beyond the newest ``keep_per_task`` runs of each task (open
        runs count towards the newest but are never deleted) and finished runs that ended
        before ``older_than``. Only the runs of ``tasks`` if given. Returns how many runs
        were deleted.

        Raises:
            ValueError: ``keep_per_task`` is negative.
        """
        if keep_per_task is not None and keep_per_task < 0:
            raise ValueError(f"keep_per_task must be 0 or more, not {keep_per_task}")
        only = None if tasks is None else set(tasks)
        with self._lock:
            doomed: set[int] = set()
            if keep_per_task is not None:
                seen: dict[str, int] = defaultdict(int)
                for run_id in sorted(self._runs, reverse=True):
                    record = self._runs[run_id]
                    if only is not None and record.task not in only:
                        continue
                    seen[record.task] += 1
                    if seen[record.task] > keep_per_task and record.end is not None:
                        doomed.add(run_id)
            if older_than is not None:
                doomed.update(
                    r.id for r in self._runs.values() if r.end is not None and r.end < older_than
                    and (only is None or r.task in only)
                )
            pruned = {self._runs.pop(run_id).task for run_id in doomed}
            if pruned:  # forget the last ends of the tasks with no runs left
                pruned.difference_update(r.task for r in self._runs.values())
                for task in pruned:
                    self._last_end.pop(task, None)
            return len(doomed)

    def close(self) -> None:
        """Nothing to release; the data stays (see the class docstring)."""
