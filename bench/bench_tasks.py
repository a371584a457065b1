"""Task bodies for the benchmark: module-level, so ``process`` runs can import them by
reference (tui-sched sends file + name; APScheduler's process pool pickles the function).

``mark(k)`` records the wall-clock instant its body starts under key ``k`` (the task's
index), which the drivers pair with the instant the scheduler said the run was due.
Appending to a list is atomic under the GIL, so thread runs need no lock.
"""

from __future__ import annotations

import time
from collections import defaultdict

STARTS: defaultdict[int, list[float]] = defaultdict(list)
"""Body start instants (epoch seconds) per task index, in run order."""

_now = time.time


def mark(k: int) -> None:
    """A trivial body that records when it started."""
    STARTS[k].append(_now())


async def amark(k: int) -> None:
    """``mark`` as a coroutine (APScheduler's inline mapping; tui-sched ``async``)."""
    STARTS[k].append(_now())


def noop() -> None:
    """A trivial body (``true`` and idle workloads: the scheduler's events are counted)."""


async def anoop() -> None:
    """``noop`` as a coroutine."""
