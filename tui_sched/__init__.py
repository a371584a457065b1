"""tui-sched: tasks that run when conditions hold, with a terminal UI.

The public API only; importing it creates nothing.
"""

from __future__ import annotations

from tui_sched import args, conds
from tui_sched.app import App
from tui_sched.conditions import parse_condition
from tui_sched.engine.session import Session
from tui_sched.errors import (
    ConditionSyntaxError,
    TaskDefinitionError,
    TaskNotFound,
    TuiSchedError,
)
from tui_sched.executors.base import Inaction
from tui_sched.rocketry.app import Rocketry
from tui_sched.rocketry.grouper import Grouper
from tui_sched.tasks.task import Task

__all__ = [
    "App",
    "ConditionSyntaxError",
    "Grouper",
    "Inaction",
    "Rocketry",
    "Session",
    "Task",
    "TaskDefinitionError",
    "TaskNotFound",
    "TuiSchedError",
    "args",
    "conds",
    "parse_condition",
]
__version__ = "0.1.0"
