"""A run that ends as ``crash`` does not use up its period (README, Semantics), so its
task would start again at once, crash again, and so on for ever: the engine backs off
instead (issue 17 item 10, issue 18 item 1), 10 s doubling per crash in a row, reset by
a success, and says so in the log."""

from __future__ import annotations

from pathlib import Path

import crashing
import pytest
from fixtures import proc_tasks
from harness import START, EngineRunner

from tui_sched import App
from tui_sched.engine.events import RunsRecovered, TaskChanged
from tui_sched.store.base import Outcome, Trigger
from tui_sched.store.sqlite import SqliteRunStore


def _log(r: EngineRunner, task: str) -> list[str]:
    return [e.change for e in r.events if isinstance(e, TaskChanged) and e.task == task]


@pytest.mark.slow
def test_a_daily_process_task_that_crashes_backs_off_instead_of_looping() -> None:
    app = App(state_dir=None)
    app.task("daily", func=proc_tasks.exit_3, execution="process", name="dies")
    with EngineRunner(app.session, process_workers=1) as r:
        [first] = r.finished("dies")
        assert first.outcome is Outcome.CRASH
        r.advance(9.9)
        assert len(r.starts("dies")) == 1  # not restarted at once
        r.advance(0.1)  # 10 s after the crash
        r.finished("dies", 2)
        r.advance(19.9)
        assert len(r.starts("dies")) == 2
        r.advance(0.1)  # the second crash in a row waits 20 s
        r.finished("dies", 3)
        log = _log(r, "dies")
    starts = [s.start - START.timestamp() for s in r.starts("dies")]
    assert starts == [0, 10, 30]
    assert "crashed (1 in a row)" in log[0] and "crashed (2 in a row)" in log[1]


@pytest.mark.slow
def test_a_success_ends_the_back_off(tmp_path: Path) -> None:
    marker = tmp_path / "fixed"
    app = App(state_dir=None)
    app.task("every 1 second", func=crashing.crash_unless, execution="process", name="job",
             parameters={"marker": str(marker)})
    with EngineRunner(app.session, process_workers=1) as r:
        [first] = r.finished("job")
        assert first.outcome is Outcome.CRASH
        r.advance(10)
        r.finished("job", 2)  # crashed again: 20 s
        marker.touch()
        r.advance(20)
        [*_, fixed] = r.finished("job", 3)
        assert fixed.outcome is Outcome.SUCCESS
        r.advance(1)  # back to its period, and a later crash starts again at 10 s
        r.finished("job", 4)
        marker.unlink()
        r.advance(1)
        r.finished("job", 5)
        # (the back-off is logged right after the run's end is published: wait for it)
        r.wait_for(lambda e: isinstance(e, TaskChanged) and e.task == "job"
                   and "crashed" in e.change, 3)
        log = _log(r, "job")
    assert "crashed (1 in a row)" in log[-1]
    starts = [s.start - START.timestamp() for s in r.starts("job")]
    assert starts == [0, 10, 30, 31, 32]


def test_a_run_left_open_by_a_dead_scheduler_backs_its_task_off(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    # What a scheduler killed during runs of `job` leaves behind: two crashes recovered
    # at earlier starts, and the run that was open when it died this time.
    store = SqliteRunStore(path)
    t0 = START.timestamp()
    for k in (3, 2):
        store.begin_run("job", Trigger.SCHEDULED, t0 - k * 60)
        store.close_open_runs(t0 - k * 60 + 1, Outcome.CRASH, "the scheduler stopped")
    open_run = store.begin_run("job", Trigger.SCHEDULED, t0 - 30)
    store.flush()
    store.close()

    app = App(state_dir=None)
    app.task("daily", func=proc_tasks.give, execution="main", name="job")
    with EngineRunner(app.session, store=SqliteRunStore(path)) as r:
        [recovered] = [e for e in r.events if isinstance(e, RunsRecovered)]
        assert [run.id for run in recovered.runs] == [open_run.id]
        [line] = _log(r, "job")
        assert f"run {open_run.id} crashed (3 in a row)" in line
        r.advance(39)
        assert r.starts("job") == []  # the third crash in a row: 40 s
        r.advance(1)
        [run] = r.finished("job")
    r.store.close()
    assert run.start == t0 + 40
