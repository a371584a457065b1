"""A run in progress, as the engine keeps it: what was recorded when it started, the job
carrying it out, and what shutdown waits on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tui_sched.executors import Job
from tui_sched.store.base import RunRecord
from tui_sched.tasks.task import Task


@dataclass(eq=False, slots=True)
class ActiveRun:
    """A run in progress."""

    record: RunRecord
    job: Job
    task: Task
    future: asyncio.Future[None] | None = None  # a Task, or (direct starts) a plain future
    skip_recorded: bool = False
