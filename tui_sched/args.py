"""Argument markers for task functions (``from tui_sched.args import Session``)."""

from __future__ import annotations

from tui_sched.tasks.args import (
    Arg,
    ArgumentMissing,
    CliArg,
    Config,
    EnvArg,
    FuncArg,
    Marker,
    Pipe,
    Return,
    Session,
    SimpleArg,
    Task,
    TaskLogger,
    TerminationFlag,
    argument,
)

__all__ = ["Arg", "ArgumentMissing", "CliArg", "Config", "EnvArg", "FuncArg", "Marker", "Pipe",
           "Return", "Session", "SimpleArg", "Task", "TaskLogger", "TerminationFlag", "argument"]
