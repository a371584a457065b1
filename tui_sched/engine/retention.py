"""When to prune run history, and how much at a time.

Pruning every task's history at once costs one delete per task and outcome: with
5,000 tasks that is tens of thousands of statements, a pause of 100 ms or more in the
middle of scheduling. So pruning is spread out instead:

* a task is queued for pruning by count once ``keep_runs // 10`` (at most 1,000) runs
  have finished since it was last pruned, so its history stays within about 10 % of
  ``keep_runs``;
* every ``every`` seconds each task with history is queued once, for pruning by age;
* the engine prunes a few queued tasks per tick, within a small time budget.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

#: Tasks pruned per store call (each call is one transaction).
_SLICE = 16
#: A tick spends at most this long pruning (seconds); the rest waits for later ticks.
_BUDGET = 0.002


class Retention:
    """Queues tasks for pruning and prunes them a slice at a time.

    Args:
        prune: The store's ``prune(keep_per_task, older_than, tasks)``.
        keep_runs: Runs kept per task (``None``: no limit by count).
        keep_days: Days kept (``None``: no limit by age).
        every: Seconds between sweeps that prune every task by age.
    """

    def __init__(self, prune: Callable[[int | None, float | None, list[str]], int],
                 keep_runs: int | None, keep_days: float | None, every: float = 3600.0) -> None:
        self._prune = prune
        self.keep_runs = keep_runs
        self.keep_days = keep_days
        self.every = every
        self.threshold = 0 if keep_runs is None else max(1, min(1000, keep_runs // 10))
        """Finished runs of one task that queue it for pruning by count (0: never)."""
        self._counts: dict[str, int] = {}
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self.next_sweep = 0.0
        """When every task is next queued (epoch seconds)."""
        self.queued_since = 0.0
        """When the queue last went from empty to not empty (epoch seconds)."""
        self.deleted = 0

    def finished(self, task: str, now: float) -> None:
        """A run of ``task`` finished at ``now`` (engine thread; a few dict operations)."""
        if not self.threshold:
            return
        count = self._counts.get(task, 0) + 1
        if count >= self.threshold:
            self._counts[task] = 0
            self._enqueue(task, now)
        else:
            self._counts[task] = count

    def sweep(self, tasks: Iterable[str], now: float) -> None:
        """Queue every task in ``tasks`` (those with history) and set the next sweep."""
        for task in tasks:
            self._enqueue(task, now)
        self.next_sweep = now + self.every

    def pending(self) -> bool:
        """Whether tasks wait to be pruned (the engine then keeps ticking)."""
        return bool(self._queue)

    def step(self, now: float, budget: float = _BUDGET) -> int:
        """Prune queued tasks, a slice at a time, until the queue is empty or ``budget``
        seconds have gone. Returns how many runs were deleted.

        Raises:
            Whatever the store raises (the engine reports it); the slice is dropped.
        """
        older = None if self.keep_days is None else now - self.keep_days * 86400
        began = time.monotonic()
        deleted = 0
        while self._queue:
            names = [self._queue.popleft() for _ in range(min(_SLICE, len(self._queue)))]
            self._queued.difference_update(names)
            deleted += self._prune(self.keep_runs, older, names)
            if time.monotonic() - began >= budget:
                break
        self.deleted += deleted
        return deleted

    def _enqueue(self, task: str, now: float) -> None:
        if not self._queue:
            self.queued_since = now
        if task not in self._queued:
            self._queued.add(task)
            self._queue.append(task)
