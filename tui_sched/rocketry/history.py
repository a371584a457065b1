"""Run history as Rocketry's log records, and a read-only repository to query them.

Rocketry kept its history as ``logging`` records in a Red Bird repository: one record
when a run starts (``action="run"``) and one when it ends (``"success"``, ``"fail"``,
``"terminate"``, ``"inaction"``, ``"crash"``). tui-sched keeps one row per run in its
store; this module presents those rows in Rocketry's shape, so that
``task.logger.filter_by(action="run").all()`` and ``session.get_repo()`` read as they
did. The repository is a view: history is written by the engine only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, fields
from datetime import datetime, timedelta, tzinfo
from typing import Any

from tui_sched.errors import TuiSchedError
from tui_sched.frozen import value
from tui_sched.store.base import Outcome, RunRecord

#: Rocketry's message for a status record (``Task.fmt_log_message``).
MESSAGE = "Task '{task}' status: '{action}'"

#: Outcomes that are not Rocketry actions (rows for starts that never happened).
_NOT_ACTIONS = frozenset({Outcome.MISSED, Outcome.SKIPPED})


class ReadOnlyRepo(TuiSchedError, TypeError):
    """A write (``repo.add(...)``, ``.delete()``) to the history view."""


@value
class TaskLogRecord:
    """One log record of a task, with the fields of Rocketry's ``TaskRunRecord``.

    Read as attributes (``record.action``) or as a mapping (``record["action"]``).

    Attributes:
        task_name: The task.
        action: ``run``, ``success``, ``fail``, ``terminate``, ``inaction`` or ``crash``.
        created: When the record was made (epoch seconds): the start for ``run``, else
            the end.
        start: When the run started.
        end: When it ended (``None`` on a ``run`` record).
        runtime: ``end - start`` (``None`` on a ``run`` record).
        message: ``Task 'x' status: 'success'``, with the error for a failure.
        exc_text: The traceback of a failure (else ``None``).
        run_id: The run's id in the store, as text (Rocketry's ids were text).
    """

    task_name: str
    action: str
    created: float
    start: datetime
    end: datetime | None
    runtime: timedelta | None
    message: str
    exc_text: str | None
    run_id: str

    def __getitem__(self, key: str) -> Any:
        if key not in FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def dict(self) -> dict[str, Any]:
        """The record as a dict (as Rocketry's pydantic records gave)."""
        return asdict(self)

    model_dump = dict


FIELDS: frozenset[str] = frozenset(f.name for f in fields(TaskLogRecord))


def records_of(run: RunRecord, tz: tzinfo | None = None) -> list[TaskLogRecord]:
    """The log records of one run: ``run`` when it started, and its end if it has one.

    ``missed`` and ``skipped`` rows (starts that never happened) give none.
    """
    if run.outcome in _NOT_ACTIONS:
        return []
    start = datetime.fromtimestamp(run.start, tz).astimezone(tz)
    started = TaskLogRecord(run.task, "run", run.start, start, None, None,
                            MESSAGE.format(task=run.task, action="run"), None, str(run.id))
    if run.outcome is None or run.end is None:
        return [started]
    action = str(run.outcome)
    message = MESSAGE.format(task=run.task, action=action)
    if run.error:
        message = f"{message}: {run.error}"
    end = datetime.fromtimestamp(run.end, tz).astimezone(tz)
    ended = TaskLogRecord(run.task, action, run.end, start, end,
                          timedelta(seconds=run.duration or 0.0), message,
                          run.traceback if run.outcome is not Outcome.SUCCESS else None,
                          str(run.id))
    return [started, ended]


#: Reads runs, newest first: ``read(task or None)``.
RunReader = Callable[[str | None], list[RunRecord]]


class Query:
    """The records a ``filter_by`` selected, oldest first (Red Bird's query object)."""

    def __init__(self, records: list[TaskLogRecord]) -> None:
        self._records = records

    def all(self) -> list[TaskLogRecord]:
        """Every selected record, oldest first."""
        return list(self._records)

    def first(self) -> TaskLogRecord | None:
        """The oldest selected record (``None``: none)."""
        return self._records[0] if self._records else None

    def last(self) -> TaskLogRecord | None:
        """The newest selected record (``None``: none)."""
        return self._records[-1] if self._records else None

    def count(self) -> int:
        """How many records were selected."""
        return len(self._records)

    def __iter__(self) -> Iterator[TaskLogRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def update(self, **values: Any) -> None:
        """Refused: the history is written by the engine only."""
        raise ReadOnlyRepo(_READ_ONLY)

    def delete(self) -> None:
        """Refused: the history is written by the engine only."""
        raise ReadOnlyRepo(_READ_ONLY)

    replace = update


_READ_ONLY = ("tui-sched's run history is read-only through Rocketry's repository API: "
              "runs are recorded by the engine; old runs are pruned by the keep_runs and "
              "keep_days settings")


class HistoryRepo:
    """Rocketry's ``session.get_repo()``: the run history as log records, read-only.

    >>> repo = HistoryRepo(lambda task: [])
    >>> repo.filter_by(task_name="fetch", action="run").all()
    []
    """

    def __init__(self, read: RunReader, tz: Callable[[], tzinfo | None] = lambda: None) -> None:
        self._read = read
        self._tz = tz
        self.model: Any = TaskLogRecord
        """Accepted for Rocketry's ``repo.model = MinimalRunRecord``; every record
        already has the fields of all of Rocketry's record models."""

    def filter_by(self, **where: Any) -> Query:
        """The records whose fields equal ``where`` (``task_name=``, ``action=``, ...).

        Raises:
            KeyError: A field that records do not have, naming the fields they have.
        """
        unknown = set(where) - FIELDS
        if unknown:
            raise KeyError(f"log records have no field {', '.join(sorted(unknown))}; "
                           f"they have: {', '.join(sorted(FIELDS))}")
        task = where.get("task_name")
        tz = self._tz()
        records = [rec for run in reversed(self._read(task if isinstance(task, str) else None))
                   for rec in records_of(run, tz)]
        records.sort(key=lambda r: r.created)
        selected = [r for r in records
                    if all(getattr(r, k) == v for k, v in where.items())]
        return Query(selected)

    def filter(self, **where: Any) -> Query:
        """Same as ``filter_by``."""
        return self.filter_by(**where)

    def __iter__(self) -> Iterator[TaskLogRecord]:
        return iter(self.filter_by())

    def add(self, item: Any) -> None:
        """Refused: the history is written by the engine only."""
        raise ReadOnlyRepo(_READ_ONLY)

    def insert(self, item: Any) -> None:
        """Refused: the history is written by the engine only."""
        raise ReadOnlyRepo(_READ_ONLY)
