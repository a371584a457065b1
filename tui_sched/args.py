"""Argument markers for task functions (``from tui_sched.args import Session``)."""

from __future__ import annotations

from tui_sched.tasks.args import Arg, EnvArg, FuncArg, Marker, Return, Session, Task, TerminationFlag

__all__ = ["Arg", "EnvArg", "FuncArg", "Marker", "Return", "Session", "Task", "TerminationFlag"]
