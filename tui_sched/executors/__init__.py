"""Executors: one class per execution mode, chosen by an explicit mapping."""

from __future__ import annotations

from tui_sched.executors.base import Executor, Inaction, Job, JobResult


def _make(mode: str, process_workers: int | None) -> Executor:
    # Imported on first use: a scheduler whose tasks all run inline never loads the
    # thread pool, the process pool or subprocess (start-up time counts).
    if mode == "main":
        from tui_sched.executors.inline import MainExecutor

        return MainExecutor()
    if mode == "async":
        from tui_sched.executors.inline import AsyncExecutor

        return AsyncExecutor()
    if mode == "thread":
        from tui_sched.executors.thread import ThreadExecutor

        return ThreadExecutor()
    if mode == "process":
        from tui_sched.executors.process import ProcessExecutor

        return ProcessExecutor(process_workers)
    if mode == "command":
        from tui_sched.executors.command import CommandExecutor

        return CommandExecutor()
    raise KeyError(mode)


class _OnDemand(dict[str, Executor]):
    """The executor of each mode, made the first time a run needs it."""

    def __init__(self, process_workers: int | None) -> None:
        super().__init__()
        self._process_workers = process_workers

    def __missing__(self, mode: str) -> Executor:
        executor = self[mode] = _make(mode, self._process_workers)
        return executor


def default_executors(process_workers: int | None = None) -> dict[str, Executor]:
    """An executor for every execution mode (and for commands), each made on first use."""
    return _OnDemand(process_workers)


__all__ = ["Executor", "Inaction", "Job", "JobResult", "default_executors"]
