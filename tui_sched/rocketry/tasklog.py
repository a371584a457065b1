"""Rocketry's task logger: ``task.logger`` reads a task's history, and each run's start
and end are ``logging`` records on the task logger, for the handlers users attach.

The logger is ``logging.getLogger("tui_sched.task")`` for an ``App``, and
``logging.getLogger("rocketry.task")`` for an app made as ``Rocketry()``, so that
Rocketry's documented ``logging.getLogger("rocketry.task").addHandler(...)`` works with
only the import changed. Records carry Rocketry's extra attributes: ``task_name``,
``action``, ``start``, ``end``, ``runtime``, ``run_id`` and, for a failure,
``exc_text`` (the traceback), and ``created`` is the scheduler's clock time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from tui_sched.engine import events as ev
from tui_sched.rocketry.history import Query, ReadOnlyRepo, TaskLogRecord, records_of
from tui_sched.store.base import Outcome

if TYPE_CHECKING:
    from tui_sched.rocketry.link import RocketryLink
    from tui_sched.tasks.task import Task

#: The task logger of an ``App`` (Rocketry's is ``rocketry.task``).
TASK_LOGGER = "tui_sched.task"


def task_logger(name: str) -> logging.Logger:
    """The task logger ``name``, with a ``NullHandler`` so that a program without logging
    configured does not get failures on stderr from ``logging``'s last resort.

    Rocketry's ``rocketry.task`` is set to ``INFO`` (unless the user chose a level), as
    Rocketry set it, so that handlers attached to it get every run. tui-sched's own
    ``tui_sched.task`` keeps the level logging gives it (``WARNING`` by default: only
    failures), so that a busy scheduler does not make two records per run nobody asked
    for; ``setLevel(logging.INFO)`` turns them on.
    """
    logger = logging.getLogger(name)
    if name != TASK_LOGGER and logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    return logger


class RecordEmitter:
    """An event bus subscriber that logs each run's start and end on the task logger."""

    def __init__(self, logger: logging.Logger, tz: Callable[[], tzinfo | None]) -> None:
        self._logger = logger
        self._tz = tz

    def __call__(self, event: ev.Event) -> None:
        # Every run passes here: decide from the level alone before building anything.
        if isinstance(event, ev.RunStarted):
            if self._logger.isEnabledFor(logging.INFO):
                self._emit(records_of(event.run, self._tz())[:1])
        elif isinstance(event, ev.RunFinished):
            if self._logger.isEnabledFor(_level(event.run.outcome)):
                self._emit(records_of(event.run, self._tz())[1:])
        elif isinstance(event, ev.RunsRecovered):
            for run in event.runs:
                if self._logger.isEnabledFor(_level(run.outcome)):
                    self._emit(records_of(run, self._tz())[1:])

    def _emit(self, records: list[TaskLogRecord]) -> None:
        for rec in records:
            level = _level(rec.action)
            record = self._logger.makeRecord(self._logger.name, level, __file__, 0,
                                             rec.message, (), None)
            record.__dict__.update(rec.dict())
            record.created = rec.created
            record.msecs = (rec.created - int(rec.created)) * 1000
            self._logger.handle(record)


def _level(action: str | None) -> int:
    """Failures are ``ERROR`` (Rocketry logged them with ``logger.exception``), the rest
    ``INFO``."""
    return logging.ERROR if action in (Outcome.FAIL, Outcome.CRASH) else logging.INFO


class TaskLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Rocketry's ``task.logger``: the task logger with ``task_name`` filled in, and the
    task's history readable through it (every task's, for the session's logger that
    ``TaskLogger()`` gives an ``@app.setup`` hook).

    >>> # task.logger.filter_by(action="run").all()  -> the task's run records
    """

    def __init__(self, task: Task | None, link: RocketryLink) -> None:
        name = None if task is None else task.name
        super().__init__(link.logger, {"task_name": name})
        self._task = name
        self._link = link

    @property
    def task_name(self) -> str | None:
        """The task's name (``None``: the session's logger)."""
        return self._task

    def filter_by(self, **where: Any) -> Query:
        """This task's log records whose fields equal ``where`` (``action="run"``)."""
        if self._task is not None:
            where = {**where, "task_name": self._task}
        return self._link.repo().filter_by(**where)

    def get_records(self, **where: Any) -> list[TaskLogRecord]:
        """``filter_by(**where).all()``."""
        return self.filter_by(**where).all()

    def get_latest(self, action: str | None = None) -> TaskLogRecord | None:
        """The newest record (of ``action`` if given)."""
        return self.filter_by(**({} if action is None else {"action": action})).last()

    def set_repo(self, repo: Any) -> None:
        """Refused: tui-sched's history is its own store."""
        raise ReadOnlyRepo("tui-sched keeps run history in its own store "
                           "(.tui-sched/history.sqlite3; App(state_dir=...) moves it) and "
                           "cannot log to another repository; attach a logging handler to "
                           f"logging.getLogger({self.logger.name!r}) to copy every run's "
                           "records elsewhere")
