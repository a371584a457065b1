"""The worker threads behind ``execution="thread"``: few while runs are short, one more
for each run that holds its thread for long.

A burst of short runs (a thousand tasks due in the same second) is taken by the threads
already awake, one run after another: a thread is woken, or started, only when no awake
worker is free to get to a new run. Idle threads wait in a stack, so the most recently
used one is woken first and the others time out and exit.

A run never waits long behind long ones. Once work has been queued, a watcher thread
looks every ``stall`` seconds for as long as a worker is busy: each worker it finds inside
one run for longer than that is counted as held (new runs no longer wait for it: they
get a thread of their own at once), and if the oldest queued run has waited that long,
it wakes or starts a thread for each held worker (one at least). A hung task therefore
costs one thread, as with a thread per run, and never the start of another.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

WorkItem = Callable[[], None]
"""One run's work; it must not raise (the thread executor's items catch everything)."""

STALL = 0.01
"""Seconds a queued run may wait before the pool adds a thread (see the module doc)."""

IDLE_TIMEOUT = 30.0
"""Seconds an idle thread waits for work before it exits."""

log = logging.getLogger(__name__)


class _Worker:
    """One worker thread's state, guarded by the pool's lock (``since`` excepted)."""

    __slots__ = ("bell", "held", "item", "since")

    def __init__(self, item: WorkItem | None) -> None:
        self.bell = threading.Lock()  # held while parked: a release wakes the thread
        self.bell.acquire()
        self.item = item
        """What it runs next when woken (``None``: exit)."""
        self.since = 0.0
        """``time.monotonic()`` when its current item began; 0.0 between items."""
        self.held = False
        """Counted in the pool's ``_held``: inside one item for longer than ``stall``."""


class WorkerPool:
    """Runs work items on worker threads (see the module doc).

    Args:
        stall: Seconds a queued item may wait before the pool adds a thread for it.
        idle_timeout: Seconds an idle thread waits for work before it exits.
        name: Prefix of the worker threads' names (numbered).
    """

    def __init__(self, stall: float = STALL, idle_timeout: float = IDLE_TIMEOUT,
                 name: str = "tui-sched-run") -> None:
        self._stall = stall
        self._idle_timeout = idle_timeout
        self._name = name
        self._lock = threading.Lock()
        self._queue: deque[tuple[float, WorkItem]] = deque()  # (queued at, item)
        self._parked: list[_Worker] = []  # idle workers, the most recently used last
        self._awake: set[_Worker] = set()  # the others: in an item or about to take one
        self._held = 0  # awake workers found inside one item for over ``stall``
        self._started = 0
        self._watching = False  # the watcher is awake
        self._watch_bell = threading.Lock()
        self._watch_bell.acquire()
        self._watcher: threading.Thread | None = None
        self._starved = False  # a thread could not be started (warned once until one is)

    def submit(self, item: WorkItem) -> None:
        """Run ``item`` soon: after the items queued before it, or on a thread woken or
        started for it when no awake worker is free to take it.

        Raises:
            RuntimeError: No thread could be started for it and no worker is awake to
                take it later (nothing was queued).
        """
        with self._lock:
            if len(self._awake) > self._held:  # a free worker will take it
                self._queue.append((time.monotonic(), item))
                if self._watching:
                    return
                self._watching = True
                worker = None
            elif self._parked:
                worker = self._parked.pop()
                worker.item = item
                self._awake.add(worker)
            else:
                try:
                    self._start(self._reserve(item))
                except RuntimeError as exc:
                    if not self._awake:
                        raise  # no thread, and none that will ever take it: the run fails
                    # No thread now: it waits for a busy worker (one about to finish
                    # may be counted held), as the watcher's queued runs do.
                    self._queue.append((time.monotonic(), item))
                    if not self._starved:
                        log.warning("no thread for a thread run (it waits): %s", exc)
                    self._starved = True
                return
        if worker is None:
            self._ring_watcher()
        else:
            worker.bell.release()

    def shutdown(self) -> None:
        """Let the idle threads exit (the pool can still be used afterwards)."""
        with self._lock:
            parked, self._parked = self._parked, []
        for worker in parked:
            worker.item = None
            worker.bell.release()

    # == workers =======================================================================
    def _reserve(self, item: WorkItem) -> _Worker:
        """A new worker for ``item``, counted awake (under the lock)."""
        worker = _Worker(item)
        self._awake.add(worker)
        self._started += 1
        return worker

    def _start(self, worker: _Worker) -> None:
        """Start ``worker``'s thread (under the lock: a failure is undone before anyone
        else counts on the worker)."""
        try:
            threading.Thread(target=self._work, args=(worker,),
                             name=f"{self._name}-{self._started}", daemon=True).start()
        except BaseException:
            self._awake.discard(worker)
            raise

    def _work(self, worker: _Worker) -> None:
        item = worker.item
        while item is not None:
            worker.item = None
            worker.since = time.monotonic()
            try:
                item()
            except BaseException:  # items catch everything; a worker outlives a bug
                log.exception("a thread run's work item raised")
            item = self._next(worker)

    def _next(self, worker: _Worker) -> WorkItem | None:
        """The worker's next item: the oldest queued one, else what it is handed once
        woken; ``None`` when it is to exit."""
        with self._lock:
            worker.since = 0.0
            if worker.held:
                worker.held = False
                self._held -= 1
            if self._queue:
                return self._queue.popleft()[1]
            self._awake.discard(worker)
            self._parked.append(worker)
        if worker.bell.acquire(timeout=self._idle_timeout):
            return worker.item
        with self._lock:
            if worker in self._parked:  # idle for the whole timeout: exit
                self._parked.remove(worker)
                return None
        worker.bell.acquire()  # a submit took it off the stack just now: its item is due
        return worker.item

    # == the watcher ===================================================================
    def _ring_watcher(self) -> None:
        """Work was queued: wake the watcher (start it the first time)."""
        if self._watcher is None:
            watcher = threading.Thread(target=self._watch, name=f"{self._name}-watch",
                                       daemon=True)
            try:
                watcher.start()
            except RuntimeError as exc:  # no thread: queued work waits for a worker
                log.warning("the thread pool's watcher could not start: %s", exc)
                with self._lock:
                    self._watching = False
                return
            self._watcher = watcher
        self._watch_bell.release()

    def _watch(self) -> None:
        while True:
            self._watch_bell.acquire()  # until work is queued
            while True:
                time.sleep(self._stall)
                with self._lock:
                    self._relieve(time.monotonic())
                    # On while a worker not yet held is awake: it may turn out to hold up
                    # the next run queued for it (a burst is watched once, not once per
                    # queued run). Held workers no longer count: new runs go past them.
                    if not self._queue and len(self._awake) <= self._held:
                        self._watching = False
                        break

    def _relieve(self, now: float) -> None:
        """Count the workers held by long items; if the oldest queued item has waited
        ``stall``, wake or start a thread for each held worker, one at least (under the
        lock)."""
        for worker in self._awake:
            if not worker.held and worker.since and now - worker.since >= self._stall:
                worker.held = True
                self._held += 1
        if not self._queue or now - self._queue[0][0] < self._stall:
            return  # the queue moves
        for _ in range(min(len(self._queue), max(1, self._held))):
            queued_at, item = self._queue.popleft()
            if self._parked:
                worker = self._parked.pop()
                worker.item = item
                self._awake.add(worker)
                worker.bell.release()
                continue
            try:
                self._start(self._reserve(item))
            except RuntimeError as exc:  # no thread: it waits for a worker to be free
                self._queue.appendleft((queued_at, item))
                if not self._starved:
                    log.warning("no thread for a queued thread run (it waits): %s", exc)
                self._starved = True
                return
            self._starved = False
