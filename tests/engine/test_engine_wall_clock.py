"""Time as the engine lives it (issue 17 items 6, 17, 18): an idle engine still writes
its heartbeat; a step of the wall clock (NTP, a suspend) does not make a wake-up late by
the rest of a long wait; a test that moves the clock right after start does not move the
first evaluation."""

from __future__ import annotations

import sys

from harness import START, EngineRunner, SleepingClock

from tui_sched import App
from tui_sched.store.memory import MemoryRunStore


def noop() -> None:
    return None


def _alive(store: MemoryRunStore) -> float:
    # Read from this thread, without waking the engine (a tick would write it).
    value = store.get_meta("last_alive")
    assert value is not None
    return float(value)


def test_an_idle_engine_writes_its_heartbeat_every_ten_seconds() -> None:
    # After a crash the downtime is counted from the heartbeat: one an hour old would
    # invent an hour of missed slots.
    clock, store = SleepingClock(), MemoryRunStore()
    app = App(state_dir=None)
    app.task("daily", func=noop, execution="main")
    with EngineRunner(app.session, store=store, clock=clock) as r:
        r.finished("noop")
        for _ in range(3):
            clock.run_for(1000)  # nothing due until midnight
            assert clock.time() - 10 <= _alive(store) <= clock.time()


def test_a_wake_up_is_on_time_after_the_wall_clock_jumped_forward() -> None:
    clock = SleepingClock()  # 09:00
    app = App(state_dir=None)
    app.task("cron 0 10 * * *", func=noop, execution="main")
    with EngineRunner(app.session, clock=clock) as r:
        clock.run_for(60)  # 09:01: the engine waits for 10:00, 59 minutes on its timer
        clock.jump(50 * 60)  # an NTP step (or a suspend): 09:51, the timer never knew
        clock.run_for(9 * 60 + 30)  # 10:00:30
        [run] = r.finished("noop")
    assert run.start == START.timestamp() + 3600


def test_after_the_wall_clock_went_back_nothing_runs_twice_and_the_heartbeat_goes_on() -> None:
    clock, store = SleepingClock(), MemoryRunStore()  # 09:00
    app = App(state_dir=None)
    app.task("cron 0 * * * *", func=noop, execution="main")
    with EngineRunner(app.session, store=store, clock=clock) as r:
        clock.run_for(3600 + 30)  # 10:00:30
        r.finished("noop", 2)  # 09:00 (the fire at start-up) and 10:00
        clock.jump(-30 * 60)  # 09:30:30
        clock.run_for(30)
        assert clock.time() - 10 <= _alive(store) <= clock.time()
        clock.run_for(31 * 60)  # 10:01:30 again: the 10:00 slot is used up
        assert len(r.starts("noop")) == 2
        clock.run_for(59 * 60)  # 11:00:30
        r.finished("noop", 3)
    assert [s.start - START.timestamp() for s in r.starts("noop")] == [0, 3600, 7200]


def test_moving_the_clock_right_after_start_does_not_move_the_first_evaluation() -> None:
    # The first evaluation pass runs after the engine says it is ready; a harness that
    # did not wait for it started an `hourly` task at 00:15 instead of 00:00, now and then
    # (threads switched often here, so that "now and then" is most times).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(20):
            app = App(state_dir=None)
            app.task("hourly", func=noop, execution="main")
            with EngineRunner(app.session) as r:
                r.advance(15 * 60)
                [run] = r.finished("noop")
            assert run.start == START.timestamp()
    finally:
        sys.setswitchinterval(interval)
