"""One driver per scheduler: build a workload's tasks, start, stop, and collect what the
scheduler says about each run (when it was due), through its own public event API.

Both drivers see the same ``Workload`` and the same task bodies (``bench_tasks``). Each
is imported only in its own subprocess, so neither library weighs on the other's RSS.

APScheduler 3 mapping (it has no execution modes, so we pick the closest executor):

* ``main`` and ``async`` -> ``AsyncIOScheduler`` with coroutine jobs (``async def``): the
  job body runs inline on the scheduler's own event loop thread, as a tui-sched ``main``
  task runs inline on the engine's loop. (A ``ThreadPoolExecutor(1)`` would add a thread
  hop that tui-sched's ``main`` does not have.)
* ``thread`` -> ``BackgroundScheduler`` + ``ThreadPoolExecutor(10)`` (APScheduler's default
  pool size; tui-sched's thread pool is elastic).
* ``process`` -> ``BackgroundScheduler`` + ``ProcessPoolExecutor(W)`` with W = tui-sched's
  default warm pool size (``max(2, cpu_count)``), so both have the same number of workers.
* ``every 1 second`` -> ``IntervalTrigger(seconds=1)`` with ``next_run_time=now`` (the first
  run at start-up, as tui-sched's first evaluation does).
* ``daily`` (idle) -> ``IntervalTrigger(days=1)`` with ``next_run_time=now``: one run at
  start-up, none in the window, as tui-sched's ``daily`` after its run today.
* ``true`` -> APScheduler has no "always" trigger: a ``date`` job (run now) that the
  ``EVENT_JOB_EXECUTED`` listener adds again as soon as it finished (so runs of one task
  never overlap, as with tui-sched's ``true`` without ``multilaunch``).
* ``apsd`` ("APScheduler defaults", the ``every`` workloads in ``main``): APScheduler as
  most people run it, ``BackgroundScheduler`` with its default ``ThreadPoolExecutor(10)``
  and plain functions, whatever tui-sched's mode: a second reference, never the one the
  bars are checked against.
* Job defaults are APScheduler's (``coalesce=True``, ``max_instances=1``,
  ``misfire_grace_time=1``); the ``apscheduler`` logger is set to ERROR so that skipped-run
  warnings do not cost terminal writes. Time zone UTC.

tui-sched: ``App(state_dir=None)`` tasks, an ``Engine`` with ``SchedulerConfig()`` defaults
and the product's store (``headless.open_store``: a ``SqliteRunStore`` in a temporary
folder behind the ``ResilientStore`` wrapper, history persisted), events from its ``EventBus``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import bench_tasks as bt
import measure as m
from workloads import Workload

_now = time.time


class Driver:
    """What ``child.py`` needs from a scheduler driver."""

    label = "?"

    def __init__(self, wl: Workload, tmp: Path) -> None:
        self.wl = wl
        self.tmp = tmp
        self.w0 = float("inf")
        self.w1 = float("inf")
        self.in_window = 0
        """``true``/``longrun``: runs finished inside [w0, w1)."""
        self.total = 0
        """Runs finished (``true``, ``idle``, ``longrun``)."""
        self.finish_times: list[float] = []
        """``idle``: when each run finished."""
        self.first_done = threading.Event()
        """``idle``: every task has finished one run."""
        self.due_log = bt.Series()
        """``every``: the due instant the scheduler announced for each run, per task."""
        self.skipped: defaultdict[int, set[float]] = defaultdict(set)
        """``every``: dues of runs the scheduler skipped (no body ran for them), per task."""
        self.extra: dict[str, Any] = {}

    @property
    def dues(self) -> dict[int, list[float | None]]:
        """``every``: the dues per task, without those of skipped runs, so that dues and
        body starts pair up one to one (read after the run)."""
        out = self.due_log.by_task()
        for k, skipped in self.skipped.items():
            out[k] = [d for d in out.get(k, []) if d not in skipped]
        return out

    def set_window(self, w0: float, w1: float) -> None:
        self.w0, self.w1 = w0, w1

    def _finished(self) -> None:
        """Called on the scheduler's thread for every finished run."""
        self.total += 1
        kind = self.wl.kind
        if kind == "idle":
            self.finish_times.append(_now())
            if self.total >= self.wl.n:
                self.first_done.set()
        else:
            t = _now()
            if self.w0 <= t < self.w1:
                self.in_window += 1

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


# == tui-sched ===========================================================================

class TuiDriver(Driver):
    label = "tui-sched"

    def __init__(self, wl: Workload, tmp: Path, store: str = "sqlite") -> None:
        super().__init__(wl, tmp)
        from tui_sched import App
        from tui_sched.config import SchedulerConfig
        from tui_sched.engine.bus import EventBus
        from tui_sched.engine.events import RunFinished, RunStarted
        from tui_sched.engine.scheduler import Engine
        from tui_sched.headless import open_store

        ex = wl.execution
        is_async = ex == "async"
        app = App(state_dir=None)
        if wl.kind == "every":
            func = bt.amark if is_async else bt.mark
            for k in range(wl.n):
                app.task("every 1 second", func=func, name=f"t{k}", execution=ex,
                         parameters={"k": k})
        else:
            cond = "daily" if wl.kind == "idle" else "true"
            body: Any = bt.anoop if is_async else bt.noop
            for k in range(wl.n):
                app.task(cond, func=body, name=f"t{k}", execution=ex)
        self.app = app
        self.bus = EventBus()
        due_add = self.due_log.add
        finished = self._finished
        self.recorded_starts: dict[int, list[float]] = {}
        """``every``: each run's start as the engine recorded it, read from the history
        after the engine stopped (``record_lateness``). Recording it in the subscriber
        too cost tui-sched a second array write per run in the measured window, which
        APScheduler's listener does not have."""
        if wl.kind == "every":
            def on_event(e: Any) -> None:
                if type(e) is RunStarted:
                    due_add(int(e.run.task[1:]), e.due)
        else:
            def on_event(e: Any) -> None:
                if type(e) is RunFinished:
                    finished()
        self.bus.subscribe(on_event)
        self.store_dir = tmp / "state"
        # The product's store: SQLite behind the wrapper that degrades to memory.
        self.store: Any = open_store(self.store_dir)
        self.sqlite: Any = self.store._store  # for the tools that time its commits
        if store == "memory":  # diagnostic only (history not persisted): labelled as such
            from tui_sched.store.memory import MemoryRunStore

            self.store.close()
            self.store = MemoryRunStore()
            self.label = "tui-sched [memory store]"
        self.engine = Engine(app.session, self.store, bus=self.bus, config=SchedulerConfig())
        self.thread = threading.Thread(target=self._serve, name="bench-engine", daemon=True)
        self.error: BaseException | None = None

    def record_lateness(self, w0: float, w1: float) -> list[float]:
        """The engine's own view: recorded run start minus due, for starts in [w0, w1)
        (after ``stop``)."""
        return m.pair_lateness(self.dues, self.recorded_starts, w0, w1)  # type: ignore[arg-type]

    def _read_recorded_starts(self) -> dict[int, list[float]]:
        """Every started run's recorded start per task index, oldest first, from the
        history (the engine has stopped; the store is still open)."""
        from tui_sched.store.base import Outcome

        out: dict[int, list[float]] = {k: [] for k in range(self.wl.n)}
        # One read of every run, newest first (a read per task went through the store's
        # writer thread once per task).
        for r in reversed(self.store.history(None, limit=10**9)):
            if r.outcome not in (Outcome.SKIPPED, Outcome.MISSED):
                out[int(r.task[1:])].append(r.start)
        return out

    def _serve(self) -> None:
        try:
            self.engine.run()
        except BaseException as exc:  # reported by child.py
            self.error = exc

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.engine.request_stop()
        self.thread.join(120)
        if self.thread.is_alive():
            self.engine.request_stop(force=True)
            self.thread.join(30)
        self.extra["engine_evaluations"] = self.engine.evaluations
        self.extra["engine_cycles"] = self.engine.cycles
        if self.wl.kind == "every" and self.error is None:
            self.recorded_starts = self._read_recorded_starts()
        try:
            self.store.close()
        except Exception:
            pass
        if self.error is not None:
            raise RuntimeError(f"the engine failed: {self.error!r}") from self.error


# == APScheduler 3 =======================================================================

class ApsDriver(Driver):
    label = "APScheduler"

    def __init__(self, wl: Workload, tmp: Path, defaults: bool = False) -> None:
        super().__init__(wl, tmp)
        if defaults:
            self.label = "APScheduler defaults"
        import logging
        from datetime import UTC, datetime

        from apscheduler.events import (
            EVENT_JOB_ERROR,
            EVENT_JOB_EXECUTED,
            EVENT_JOB_MISSED,
            EVENT_JOB_SUBMITTED,
        )

        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        ex = wl.execution
        # ``defaults``: APScheduler as most people run it (BackgroundScheduler, its default
        # ThreadPoolExecutor(10), plain functions), whatever tui-sched's mode.
        self.inline = ex in ("main", "async") and not defaults
        if defaults:
            ex = "thread"
        if self.inline:
            from apscheduler.schedulers.asyncio import AsyncIOScheduler

            self.loop = asyncio.new_event_loop()
            self.sched: Any = AsyncIOScheduler(event_loop=self.loop, timezone=UTC)
            self.loop_thread = threading.Thread(target=self._serve_loop, name="bench-aps-loop",
                                                daemon=True)
        else:
            from apscheduler.schedulers.background import BackgroundScheduler

            if ex == "thread":
                from apscheduler.executors.pool import ThreadPoolExecutor

                executor: Any = ThreadPoolExecutor(10)
            else:
                from apscheduler.executors.pool import ProcessPoolExecutor

                executor = ProcessPoolExecutor(max(2, os.cpu_count() or 2))
            self.sched = BackgroundScheduler(executors={"default": executor}, timezone=UTC)
        sched = self.sched
        self.stopping = False
        now = datetime.now(UTC)

        if wl.kind == "every":
            func: Any = bt.amark if self.inline else bt.mark
            for k in range(wl.n):
                sched.add_job(func, "interval", seconds=wl.period, args=(k,), id=str(k),
                              next_run_time=now)
            due_add = self.due_log.add
            missed = self.skipped

            def on_event(e: Any) -> None:
                if e.code == EVENT_JOB_SUBMITTED:
                    due_add(int(e.job_id), e.scheduled_run_times[-1].timestamp())
                else:  # EVENT_JOB_MISSED (the executor skipped a run past its grace time)
                    missed[int(e.job_id)].add(e.scheduled_run_time.timestamp())

            sched.add_listener(on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED)
        elif wl.kind == "idle":
            func = bt.anoop if self.inline else bt.noop
            for k in range(wl.n):
                sched.add_job(func, "interval", days=1, id=str(k), next_run_time=now)
            finished = self._finished

            def on_event(e: Any) -> None:
                finished()

            sched.add_listener(on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        else:  # true
            func = bt.anoop if self.inline else bt.noop
            for k in range(wl.n):
                sched.add_job(func, "date", id=str(k))
            finished = self._finished
            add_job = sched.add_job

            def on_event(e: Any) -> None:
                finished()
                if not self.stopping:
                    add_job(func, "date", id=e.job_id, replace_existing=True)

            sched.add_listener(on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _serve_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        if self.inline:
            self.loop_thread.start()

            async def go() -> None:
                self.sched.start()

            asyncio.run_coroutine_threadsafe(go(), self.loop).result(60)
        else:
            self.sched.start()

    def stop(self) -> None:
        self.stopping = True
        if self.inline:
            async def halt() -> None:
                self.sched.shutdown(wait=False)

            asyncio.run_coroutine_threadsafe(halt(), self.loop).result(60)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.loop_thread.join(60)
        else:
            self.sched.shutdown(wait=True)
        if self.wl.kind == "every":
            # (``dues`` leaves out those of runs the executor skipped.)
            self.extra["missed_runs"] = sum(len(s) for s in self.skipped.values())


def make(scheduler: str, wl: Workload, tmp: Path, store: str = "sqlite") -> Driver:
    """The driver for ``scheduler`` (``tui`` or ``aps``); ``store`` is tui-sched's."""
    if scheduler == "tui":
        return TuiDriver(wl, tmp, store)
    if scheduler == "aps":
        return ApsDriver(wl, tmp)
    if scheduler == "apsd":
        return ApsDriver(wl, tmp, defaults=True)
    raise ValueError(f"unknown scheduler {scheduler!r}")
