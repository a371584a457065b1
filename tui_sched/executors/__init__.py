"""Executors: one class per execution mode, chosen by an explicit mapping."""

from __future__ import annotations

from tui_sched.executors.base import Executor, Inaction, Job, JobResult
from tui_sched.executors.command import CommandExecutor
from tui_sched.executors.inline import AsyncExecutor, MainExecutor
from tui_sched.executors.process import ProcessExecutor
from tui_sched.executors.thread import ThreadExecutor


def default_executors(process_workers: int | None = None) -> dict[str, Executor]:
    """A fresh executor for every execution mode (and for commands)."""
    return {
        "main": MainExecutor(),
        "async": AsyncExecutor(),
        "thread": ThreadExecutor(),
        "process": ProcessExecutor(process_workers),
        "command": CommandExecutor(),
    }


__all__ = ["Executor", "Inaction", "Job", "JobResult", "default_executors"]
