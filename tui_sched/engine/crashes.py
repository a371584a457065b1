"""Crash loops: a run that ends as ``crash`` (its process died, or the scheduler died
while it ran) does not use up its period, so its condition would start it again at
once. Its task backs off instead, as systemd's ``RestartSec=`` with ``RestartSteps=``
would; ``TaskState.crashed`` keeps the count."""

from __future__ import annotations

from collections.abc import Iterable

from tui_sched.store.base import Outcome, RunRecord
from tui_sched.tasks.task import Task

#: A crashed run's task waits this long before its condition may start it again (when it
#: has no ``retry_delay``), twice as long after each further crash in a row ...
FIRST = 10.0
#: ... up to this long (unless its ``max_delay`` says otherwise).
MAX = 3600.0
#: Crashes in a row counted back in the history at start-up (the cap is reached well
#: before).
LOOKBACK = 20


def backoff(task: Task) -> tuple[float, float]:
    """The first back-off after a crash and its cap, for ``task``: its ``retry_delay``
    (else ``FIRST``) and its ``max_delay`` (else ``MAX``)."""
    options = task.options
    first = options.retry_delay if options.retry_delay > 0 else FIRST
    cap = options.max_delay if options.max_delay is not None else MAX
    return first, max(first, cap)


def in_a_row(history: Iterable[RunRecord]) -> int:
    """How many of a task's latest runs (``history``: newest first) ended as ``crash``
    (rows of starts that never ran, ``missed`` and ``skipped``, are passed over)."""
    crashes = 0
    for row in history:
        if row.outcome in (Outcome.MISSED, Outcome.SKIPPED):
            continue
        if row.outcome is not Outcome.CRASH:
            break
        crashes += 1
    return crashes
