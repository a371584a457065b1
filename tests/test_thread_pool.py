"""The threads behind ``execution="thread"``, through the real engine: a burst of short
runs is taken by a few threads, while runs that hold their thread never keep another run
from starting.

Fake clock for the schedule, real threads for the runs; tests wait on events, never sleep.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

import pytest
from harness import EngineRunner

from tui_sched import App
from tui_sched.store.base import Outcome

RUN_THREAD = re.compile(r"tui-sched-run-\d+$")


def run_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """Worker threads of thread runs alive now that were not alive ``before``."""
    return [t for t in threading.enumerate()
            if t not in before and RUN_THREAD.match(t.name) and t.is_alive()]


def test_a_burst_of_short_thread_runs_is_taken_by_a_few_threads() -> None:
    app = App(state_dir=None)
    for i in range(500):
        app.task("every 1 second", func=lambda: None, execution="thread", name=f"t{i:03d}")
    before = set(threading.enumerate())
    with EngineRunner(app.session) as r:
        r.finished("t499")
        for second in range(2, 6):
            r.advance(1)
            r.finished("t499", second)
        threads = run_threads(before)
        finishes = [run for name in ("t000", "t250", "t499") for run in r.finishes(name)]
    assert all(run.outcome is Outcome.SUCCESS for run in finishes) and len(finishes) == 15
    # One thread per run in flight made hundreds here: idle threads were woken by turns,
    # so none was ever idle long enough to exit. A few are enough for runs that return
    # at once (more only when runs wait ten milliseconds for a worker).
    assert len(threads) <= 16, f"{len(threads)} worker threads for 500 short runs a second"


def test_thread_runs_that_hold_their_thread_never_keep_another_run_from_starting() -> None:
    app = App(state_dir=None)
    release = threading.Event()
    entered = threading.Semaphore(0)

    def hold() -> str:
        entered.release()
        assert release.wait(20)
        return "released"

    for i in range(12):
        app.task(func=hold, execution="thread", name=f"hold{i:02d}", force_run=True)
    with EngineRunner(app.session) as r:
        for _ in range(12):  # all twelve run at once, none waits for another to return
            assert entered.acquire(timeout=10)
        app.task(func=lambda: "ran", execution="thread", name="later", force_run=True)
        [later] = r.finished("later")
        assert all(r.finishes(f"hold{i:02d}") == [] for i in range(12))
        release.set()
        held = [run for i in range(12) for run in r.finished(f"hold{i:02d}")]
    assert later.outcome is Outcome.SUCCESS
    assert [run.outcome for run in held] == [Outcome.SUCCESS] * 12


def test_a_thread_run_terminated_while_it_waited_for_a_thread_never_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = App(state_dir=None)
    release, entered = threading.Event(), threading.Event()
    ran: list[str] = []

    def hold() -> None:
        entered.set()
        assert release.wait(20)

    # Both due in the same tick: "victim" is queued behind "hold", for the one thread.
    app.task(func=hold, execution="thread", name="hold", force_run=True, priority=2)
    app.task(func=lambda: ran.append("victim"), execution="thread", name="victim",
             force_run=True, priority=1, timeout=0.2)
    real_start = threading.Thread.start

    def one_worker(self: threading.Thread) -> None:  # the system is out of threads
        if RUN_THREAD.match(self.name) and self.name != "tui-sched-run-1":
            raise RuntimeError("can't start new thread")
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", one_worker)
    with EngineRunner(app.session, termination_grace=0.2) as r:
        assert entered.wait(10)
        [victim] = r.finished("victim")
        release.set()
        r.finished("hold")  # its thread now takes the victim's queued work, then "after"
        app.task(func=lambda: ran.append("after"), execution="thread", name="after",
                 force_run=True)
        [after] = r.finished("after")
    assert after.outcome is Outcome.SUCCESS
    assert victim.outcome is Outcome.TERMINATE
    assert victim.error is not None and victim.error.startswith("timed out after 0.2 s")
    assert ran == ["after"]


class _Warned(logging.Handler):
    """Sets ``event`` when a record containing ``text`` is logged."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.WARNING)
        self.text, self.event = text, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


def test_out_of_threads_a_new_run_waits_for_a_busy_worker_instead_of_failing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The system refuses new threads and the one worker is busy (counted held: it has
    # been in its run past the stall). A run submitted now waits for that worker, as the
    # runs already queued do; it used to fail with "can't start new thread", which also
    # happened when the worker was just finishing (a race under load).
    from tui_sched.executors.threadpool import WorkerPool

    pool = WorkerPool(stall=0.01, name="tui-sched-run")
    release, ran = threading.Event(), []
    done = threading.Condition()

    def item(name: str) -> Callable[[], None]:
        def work() -> None:
            if name == "first":
                assert release.wait(20)
            with done:
                ran.append(name)
                done.notify_all()
        return work

    real_start = threading.Thread.start

    def one_worker(self: threading.Thread) -> None:
        if RUN_THREAD.match(self.name) and self.name != "tui-sched-run-1":
            raise RuntimeError("can't start new thread")
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", one_worker)
    warned = _Warned("no thread for a queued thread run")
    pool_log = logging.getLogger("tui_sched.executors.threadpool")
    pool_log.addHandler(warned)
    try:
        pool.submit(item("first"))
        pool.submit(item("queued"))  # the watcher marks the worker held, finds no thread
        assert warned.event.wait(20)  # (its warning: the worker is counted held now)
        pool.submit(item("late"))
    finally:
        pool_log.removeHandler(warned)
    release.set()
    with done:
        assert done.wait_for(lambda: len(ran) == 3, timeout=20), ran
    assert ran == ["first", "queued", "late"]
    pool.shutdown()
