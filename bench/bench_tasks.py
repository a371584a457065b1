"""Task bodies for the benchmark: module-level, so ``process`` runs can import them by
reference (tui-sched sends file + name; APScheduler's process pool pickles the function).

``mark(k)`` records the wall-clock instant its body starts under key ``k`` (the task's
index), which the drivers pair with the instant the scheduler said the run was due.

What is recorded goes into one flat array (``Series``), not a list per task: thousands
of per-task lists would be thousands of objects that every full garbage collection of
the measured scheduler's process walks (10 ms and more at 5,000 tasks), a cost of the
measurement, not of the scheduler. One ``array.extend`` of a pair is a single C call, so
threads need no lock.
"""

from __future__ import annotations

import math
import time
from array import array
from collections import defaultdict


class Series:
    """Values per task index, in the order they came, in one flat array of pairs."""

    def __init__(self) -> None:
        self._flat = array("d")

    def add(self, k: int, value: float | None) -> None:
        """Record ``value`` (``None`` kept as such) for task ``k``; safe from any thread."""
        self._flat.extend((k, math.nan if value is None else value))

    def by_task(self) -> dict[int, list[float | None]]:
        """Task index -> its values in order (``None`` where ``None`` was added)."""
        out: defaultdict[int, list[float | None]] = defaultdict(list)
        flat = self._flat
        for i in range(0, len(flat), 2):
            value = flat[i + 1]
            out[int(flat[i])].append(None if math.isnan(value) else value)
        return dict(out)


STARTS = Series()
"""Body start instants (epoch seconds) per task index, in run order."""

_now = time.time
_add = STARTS.add


def mark(k: int) -> None:
    """A trivial body that records when it started."""
    _add(k, _now())


async def amark(k: int) -> None:
    """``mark`` as a coroutine (APScheduler's inline mapping; tui-sched ``async``)."""
    _add(k, _now())


def noop() -> None:
    """A trivial body (``true`` and idle workloads: the scheduler's events are counted)."""


async def anoop() -> None:
    """``noop`` as a coroutine."""
