"""Exceptions a task raises to say how its run ended (Rocketry's ``rocketry.exc``).

>>> from tui_sched.exc import TaskTerminationException
"""

from __future__ import annotations

from tui_sched.executors.base import Inaction, TaskTerminationException

#: Rocketry's name for ``Inaction``: the run is recorded as ``inaction``.
TaskInactionException = Inaction

__all__ = ["Inaction", "TaskInactionException", "TaskTerminationException"]
