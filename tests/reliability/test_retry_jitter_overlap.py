"""Retries with backoff, start jitter, skipped overlapping starts, end conditions."""

from __future__ import annotations

import threading

import pytest
from harness import START, EngineRunner

from tui_sched import App
from tui_sched.engine.events import RunRecorded, RunTerminating
from tui_sched.store.base import Outcome, Trigger
from tui_sched.tasks.options import validate_options


def test_retry_wait_grows_by_backoff_up_to_max_delay_plus_jitter() -> None:
    opts = validate_options("t", {"retry_delay": "10 seconds", "backoff": 2,
                                  "max_delay": "1 minute", "retry_jitter": 5})
    assert [opts.retry_wait(n, 0.0) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    assert opts.retry_wait(1, 0.5) == 12.5


def test_retries_back_off_on_the_fake_clock() -> None:
    def broken() -> None:
        raise RuntimeError("down")

    app = App(state_dir=None)
    app.task(func=broken, execution="main", retries=3, retry_delay=10, backoff=3,
             force_run=True)
    with EngineRunner(app.session) as r:
        r.finished("broken", 1)
        r.advance(9.9)
        assert len(r.starts("broken")) == 1
        r.advance(0.1)  # +10 s
        r.finished("broken", 2)
        r.advance(29.9)
        assert len(r.starts("broken")) == 2
        r.advance(0.1)  # +30 s
        r.finished("broken", 3)
        r.advance(90)  # +90 s
        runs = r.finished("broken", 4)
        r.advance(3600)
        assert len(r.starts("broken")) == 4  # 1 run + 3 retries, then it stops
    offsets = [run.start - START.timestamp() for run in runs]
    assert offsets == [0, 10, 40, 130]
    assert [run.trigger for run in runs] == [Trigger.FORCED] + [Trigger.RETRY] * 3


def test_start_jitter_delays_within_the_bound() -> None:
    app = App(state_dir=None)
    for i in range(20):
        app.task("daily", func=lambda: None, name=f"t{i}", execution="main", jitter="30 seconds")
    with EngineRunner(app.session) as r:
        r.sync()
        assert all(not r.starts(f"t{i}") for i in range(20))
        for _ in range(30):
            r.advance(1)
        for i in range(20):
            r.finished(f"t{i}")
        offsets = sorted(r.starts(f"t{i}")[0].start - START.timestamp() for i in range(20))
    assert len(set(offsets)) > 1  # spread out (20 draws; all equal has probability ~0)


def test_a_due_start_during_a_long_run_is_recorded_as_skipped_once() -> None:
    release = threading.Event()
    app = App(state_dir=None)

    @app.task("every 10 seconds")
    def slow() -> None:
        release.wait(10)

    with EngineRunner(app.session) as r:
        r.wait_for(lambda e: getattr(getattr(e, "run", None), "task", None) == "slow")
        r.sync()
        r.advance(10)
        r.advance(10)
        skipped = [e.run for e in r.events if isinstance(e, RunRecorded)]
        assert len(skipped) == 1
        assert skipped[0].outcome is Outcome.SKIPPED
        assert "still in progress" in (skipped[0].error or "")
        release.set()
        r.finished("slow")
        rows = r.store.history("slow")
    assert Outcome.SKIPPED in {row.outcome for row in rows}


@pytest.mark.parametrize("mode", ["thread", "async"])
def test_end_condition_terminates_a_running_run(mode: str) -> None:
    import asyncio

    app = App(state_dir=None)
    if mode == "async":
        async def waiter() -> None:
            await asyncio.sleep(30)
        app.task("daily", func=waiter, name="waiter", end_cond="time of day after 09:30")
    else:
        from tui_sched.args import TerminationFlag

        def waiter_t(flag=TerminationFlag()) -> None:  # type: ignore[no-untyped-def]
            flag.wait(30)
        app.task("daily", func=waiter_t, name="waiter", end_cond="time of day after 09:30")
    with EngineRunner(app.session) as r:
        r.wait_for(lambda e: getattr(getattr(e, "run", None), "task", None) == "waiter")
        r.advance(29 * 60)
        assert not r.finishes("waiter")
        r.fake.advance(60)
        [run] = r.finished("waiter")
        assert run.outcome is Outcome.TERMINATE
        assert "end condition" in (run.error or "")
        [term] = [e for e in r.events if isinstance(e, RunTerminating)]
        assert term.run.id == run.id
