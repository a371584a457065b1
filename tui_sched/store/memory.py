"""``MemoryRunStore``: run history in plain dicts, for tests and throwaway sessions."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable

from tui_sched.conditions.context import RECENT_RUNS
from tui_sched.errors import StoreError
from tui_sched.store.base import (
    Outcome,
    RecentRun,
    RunEnd,
    RunRecord,
    RunStore,
    TaskInfo,
    TaskSummary,
)

#: Rows that record a start that never happened.
_NOT_STARTED = (Outcome.MISSED, Outcome.SKIPPED)


def _merged(before: TaskSummary, mine: TaskSummary) -> TaskSummary:
    """A task's summary from an earlier store and this one together."""
    starts = [t for t in (before.last_start, mine.last_start) if t is not None]
    ends = dict(before.last_end)
    for outcome, end in mine.last_end.items():
        ends[outcome] = max(end, ends.get(outcome, end))
    return TaskSummary(task=mine.task, last_start=max(starts, default=None), last_end=ends,
                       run_count=before.run_count + mine.run_count)


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
        # What a store this one carries on from knew (see ``continuing``).
        self._before: dict[str, TaskSummary] = {}
        self._recent_before: dict[str, list[RecentRun]] = {}

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
                start=self._runs[run_id].start if end.start is None else end.start,
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
            mine = {
                task: TaskSummary(
                    task=task,
                    last_start=last_start.get(task),
                    last_end=dict(self._last_end.get(task, {})),
                    run_count=counts[task],
                )
                for task in counts
            }
            for task, before in self._before.items():
                mine[task] = _merged(before, mine[task]) if task in mine else before
            return [mine[task] for task in sorted(mine)]

    def recent_runs(self, per_task: int, tasks: Iterable[str] | None = None
                    ) -> dict[str, list[RecentRun]]:
        """The latest ``per_task`` finished runs of each task, or of ``tasks`` (not
        ``missed``/``skipped``) as ``(start, end, outcome value)``, oldest first."""
        only = None if tasks is None else set(tasks)
        recent: defaultdict[str, list[RecentRun]] = defaultdict(list)
        with self._lock:
            for run_id in sorted(self._runs, reverse=True):
                r = self._runs[run_id]
                if (r.end is None or r.outcome is None or r.outcome in _NOT_STARTED
                        or (only is not None and r.task not in only)
                        or len(recent[r.task]) >= per_task):
                    continue
                recent[r.task].append((r.start, r.end, r.outcome._value_))
        merged = {task: runs[-per_task:] if per_task > 0 else []
                  for task, runs in self._recent_before.items()
                  if only is None or task in only}
        for task, runs in recent.items():
            merged[task] = (merged.get(task, []) + runs[::-1])[-per_task:]
        return {task: runs for task, runs in merged.items() if runs}

    def meta_items(self) -> dict[str, str]:
        """Every stored scheduler fact."""
        return dict(self._meta)

    @classmethod
    def continuing(cls, source: RunStore, recent: bool = True) -> MemoryRunStore:
        """A memory store that carries on from ``source`` (a history file that cannot be
        written): it starts from ``source``'s summaries, recent runs (unless ``recent`` is
        false: the engine has read them already), flags, task list and scheduler facts,
        and hands out ids above its ids. Its ``history`` holds only the runs recorded in
        it.

        Raises:
            StoreError: ``source`` cannot be read.
        """
        store = cls()
        store._before = {s.task: s for s in source.summaries()}
        store._recent_before = source.recent_runs(RECENT_RUNS) if recent else {}
        store._flags = source.get_flags()
        store._tasks = source.tasks()
        store._meta = source.meta_items()
        store._next_id = source.next_run_id()
        return store

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
        before ``older_than``. Only the runs of ``tasks`` if given. A task's newest run that
        started and its latest run of each outcome are kept (conditions read them).
        Returns how many runs were deleted.

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
            doomed -= self._kept_for_conditions({self._runs[i].task for i in doomed})
            pruned = {self._runs.pop(run_id).task for run_id in doomed}
            if pruned:  # forget the last ends of the tasks with no runs left
                pruned.difference_update(r.task for r in self._runs.values())
                for task in pruned:
                    self._last_end.pop(task, None)
            return len(doomed)

    def _kept_for_conditions(self, tasks: set[str]) -> set[int]:
        """The runs of ``tasks`` that pruning keeps: each one's newest run that started and
        its latest run of each outcome (the newest of those that ended at that instant),
        as SQLite's ``_KEPT_FOR_CONDITIONS`` (lock held)."""
        newest: dict[str, int] = {}
        latest: dict[tuple[str, Outcome], int] = {}
        for run_id, r in self._runs.items():
            if r.task not in tasks:
                continue
            if r.outcome not in _NOT_STARTED and run_id > newest.get(r.task, 0):
                newest[r.task] = run_id
            if r.outcome is not None and r.end == self._last_end.get(r.task, {}).get(r.outcome):
                key = (r.task, r.outcome)
                latest[key] = max(run_id, latest.get(key, 0))
        return set(newest.values()) | set(latest.values())

    def close(self) -> None:
        """Nothing to release; the data stays (see the class docstring)."""
