"""Run records and the ``RunStore`` interface every history backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from enum import StrEnum

from tui_sched.frozen import value


class Outcome(StrEnum):
    """How a run ended (``missed`` and ``skipped`` mark runs that never started)."""

    SUCCESS = "success"
    FAIL = "fail"
    TERMINATE = "terminate"
    CRASH = "crash"
    INACTION = "inaction"
    MISSED = "missed"
    SKIPPED = "skipped"


class Trigger(StrEnum):
    """Why a run started."""

    SCHEDULED = "scheduled"
    FORCED = "forced"
    RETRY = "retry"
    CATCH_UP = "catch-up"


@value
class RunRecord:
    """One run of one task, as stored. Times are epoch seconds (UTC).

    Attributes:
        id: Unique, increasing run id within a store.
        task: Task name.
        trigger: Why it started.
        start: Start time.
        end: End time, ``None`` while running.
        outcome: How it ended, ``None`` while running.
        error: One-line error (exception text, exit code and stderr tail...).
        traceback: Formatted traceback of a failure.
        return_summary: A short ``repr`` of the return value.
        output_tail: The last part of the run's output.
        attempt: 1 for the first attempt, 2.. for retries.
    """

    id: int
    task: str
    trigger: Trigger
    start: float
    end: float | None = None
    outcome: Outcome | None = None
    error: str | None = None
    traceback: str | None = None
    return_summary: str | None = None
    output_tail: str | None = None
    attempt: int = 1

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, ``None`` while running."""
        return None if self.end is None else max(0.0, self.end - self.start)


@value
class RunEnd:
    """How a run finished; applied to an open record by ``RunStore.finish_run``."""

    end: float
    outcome: Outcome
    error: str | None = None
    traceback: str | None = None
    return_summary: str | None = None
    output_tail: str | None = None
    start: float | None = None
    """When the run really began, if not when it was recorded as started (a run that
    waited in a cluster's queue); ``None`` keeps the recorded start."""


@value
class TaskSummary:
    """The latest times of each kind for one task, to rebuild the status index at start.

    Attributes:
        task: Task name.
        last_start: Start of the newest run that really started (``missed`` and
            ``skipped`` rows record starts that never happened); ``None`` if none did.
        last_end: Latest time each outcome was reached (end time), by outcome. Pruning
            keeps each task's latest run of each outcome, and its newest run that
            started, so neither is forgotten.
        run_count: Number of stored runs.
    """

    task: str
    last_start: float | None
    last_end: dict[Outcome, float]
    run_count: int


RecentRun = tuple[float, float, str]
"""A finished run as the status index keeps it: ``(start, end, outcome value)`` (see
``tui_sched.conditions.context.RecentRun``)."""


@value
class TaskInfo:
    """What ``tui-sched list`` shows of a task; written by the engine when tasks change."""

    name: str
    condition: str
    execution: str
    disabled: bool
    module: str | None = None


class RunStore(ABC):
    """Run history, persisted task flags and task metadata.

    One writer (the engine thread) at a time. Writes may be buffered until ``flush()``;
    the engine flushes once per scheduling tick so that a burst of runs costs one commit.
    """

    @abstractmethod
    def next_run_id(self) -> int:
        """An id greater than any stored run id."""

    @abstractmethod
    def start_run(self, record: RunRecord) -> None:
        """Record a started (open) run, or a complete one (e.g. ``missed``)."""

    def begin_run(self, task: str, trigger: Trigger, start: float, attempt: int = 1) -> RunRecord:
        """Record a new open run under a new id: ``next_run_id`` and ``start_run`` in one
        call (the engine's, on every run). Returns the run's record."""
        record = RunRecord(self.next_run_id(), task, trigger, start, attempt=attempt)
        self.start_run(record)
        return record

    @abstractmethod
    def finish_run(self, run_id: int, end: RunEnd) -> None:
        """Close an open run."""

    @abstractmethod
    def flush(self) -> None:
        """Make buffered writes durable."""

    @abstractmethod
    def close_open_runs(self, at: float, outcome: Outcome, error: str) -> list[RunRecord]:
        """Close every run still open (left by a scheduler that died); return them closed."""

    @abstractmethod
    def history(
        self, task: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[RunRecord]:
        """Runs, newest first, optionally of one task and older than ``before_id``."""

    @abstractmethod
    def summaries(self) -> list[TaskSummary]:
        """One summary per task that has runs."""

    @abstractmethod
    def get_flags(self) -> dict[str, bool]:
        """Persisted ``disabled`` flags by task name."""

    @abstractmethod
    def set_flag(self, task: str, disabled: bool) -> None:
        """Persist a task's ``disabled`` flag."""

    @abstractmethod
    def save_tasks(self, tasks: list[TaskInfo]) -> None:
        """Replace the stored task list (what ``tui-sched list`` prints)."""

    @abstractmethod
    def tasks(self) -> list[TaskInfo]:
        """The stored task list."""

    @abstractmethod
    def prune(self, keep_per_task: int | None, older_than: float | None,
              tasks: Iterable[str] | None = None) -> int:
        """Delete finished runs beyond the newest ``keep_per_task`` of each task, and
        finished runs that ended before ``older_than``; only those of ``tasks`` if given
        (the engine prunes a few tasks at a time). Returns how many were deleted."""

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Store a small fact about the scheduler (e.g. ``last_alive``); buffered."""

    @abstractmethod
    def get_meta(self, key: str) -> str | None:
        """A stored fact, or ``None``."""

    @abstractmethod
    def recent_runs(self, per_task: int, tasks: Iterable[str] | None = None
                    ) -> dict[str, list[RecentRun]]:
        """The latest ``per_task`` finished runs of each task that has some (of ``tasks``
        if given), not counting ``missed``/``skipped`` records, oldest first: what count
        conditions and ``retry(n)`` read, loaded into the status index at start."""

    def meta_items(self) -> dict[str, str]:
        """Every stored scheduler fact (for copying a store)."""
        return {}

    def notices(self) -> list[str]:
        """Problems the store recovered from since the last call (the engine reports
        them), e.g. its file deleted and recreated."""
        return []

    def wait_written(self) -> None:  # noqa: B027 - most backends write synchronously
        """Block until every flushed write is committed (a backend that commits in the
        background, like SQLite's, waits for it; others have nothing to wait for)."""

    @abstractmethod
    def close(self) -> None:
        """Flush and release the backend."""
