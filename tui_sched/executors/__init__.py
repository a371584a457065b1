"""Executors: one class per execution mode, chosen by an explicit mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_sched.executors.base import Executor, Inaction, Job, JobResult

if TYPE_CHECKING:
    from tui_sched.config import DaskSettings

#: Modes whose runs leave this process: arguments are resolved here and must pickle.
REMOTE_EXECUTIONS = frozenset({"process", "dask"})


def _make(mode: str, process_workers: int | None, dask: DaskSettings | None,
          report: Callable[[str], None] | None) -> Executor:
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
    if mode == "dask":
        from tui_sched.executors.dask import DaskExecutor

        return DaskExecutor(dask, report)
    raise KeyError(mode)


class _OnDemand(dict[str, Executor]):
    """The executor of each mode, made the first time a run needs it."""

    def __init__(self, process_workers: int | None, dask: DaskSettings | None,
                 report: Callable[[str], None] | None) -> None:
        super().__init__()
        self._process_workers = process_workers
        self._dask = dask
        self._report = report

    def __missing__(self, mode: str) -> Executor:
        executor = self[mode] = _make(mode, self._process_workers, self._dask, self._report)
        return executor


def default_executors(process_workers: int | None = None, dask: DaskSettings | None = None,
                      report: Callable[[str], None] | None = None) -> dict[str, Executor]:
    """An executor for every execution mode (and for commands), each made on first use.

    Args:
        process_workers: Size of the ``process`` pool.
        dask: Where ``dask`` runs go.
        report: Told about an executor's problems that are not one run's (the engine
            publishes them as ``EngineError``).
    """
    return _OnDemand(process_workers, dask, report)


__all__ = ["REMOTE_EXECUTIONS", "Executor", "Inaction", "Job", "JobResult", "default_executors"]
