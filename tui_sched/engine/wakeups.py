"""When each task's condition is next due to be evaluated: a heap of wake-ups."""

from __future__ import annotations

import heapq


class Wakeups:
    """Per task, the next instant (epoch seconds) its condition must be evaluated again.

    A heap ordered by time with at most one live entry per task. Moving a task's wake-up
    leaves its old entry in the heap, skipped when it comes up: cheaper than removing it,
    and a stale entry at most wakes the engine once for nothing.
    """

    __slots__ = ("_at", "_heap")

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._at: dict[str, float] = {}

    def get(self, task: str) -> float | None:
        """The task's live wake-up, if any."""
        return self._at.get(task)

    def set(self, task: str, at: float, now: float) -> None:
        """Wake ``task`` at ``at``, unless a wake-up still to come, no later, covers it."""
        current = self._at.get(task)
        if current is not None and now < current <= at:
            return
        self._at[task] = at
        heapq.heappush(self._heap, (at, task))

    def discard(self, task: str) -> None:
        """Forget the task's wake-up (it started, was removed, or its condition changed)."""
        self._at.pop(task, None)

    def pop_due(self, now: float) -> dict[str, float]:
        """Take off the wake-ups due at ``now``: task name -> when it was due."""
        due: dict[str, float] = {}
        heap, live = self._heap, self._at
        while heap and heap[0][0] <= now:
            at, task = heapq.heappop(heap)
            if live.get(task) == at:
                del live[task]
                due[task] = at
        return due

    def next_at(self) -> float | None:
        """The earliest entry's time (possibly a stale one), or ``None``."""
        return self._heap[0][0] if self._heap else None
