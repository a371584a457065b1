"""Rocketry's log record models (``rocketry.log``), for code that names them.

tui-sched's history gives one kind of record (``TaskLogRecord``), with the fields of all
of Rocketry's models, so each name here is that class: ``repo.model = MinimalRunRecord``
and the like change nothing. Rocketry's repositories (Red Bird) are not supported; the
history is tui-sched's own store, read through ``session.get_repo()``.
"""

from __future__ import annotations

from tui_sched.rocketry.history import TaskLogRecord

MinimalRecord = TaskLogRecord
LogRecord = TaskLogRecord
MinimalRunRecord = TaskLogRecord
RunRecord = TaskLogRecord
TaskRunRecord = TaskLogRecord

__all__ = ["LogRecord", "MinimalRecord", "MinimalRunRecord", "RunRecord", "TaskLogRecord",
           "TaskRunRecord"]
