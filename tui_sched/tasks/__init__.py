"""Task kinds, naming, argument markers and the task factory."""

from __future__ import annotations

from tui_sched.tasks.task import TASK_NAME_ATTR, Task

__all__ = ["TASK_NAME_ATTR", "Task"]
