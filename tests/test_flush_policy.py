"""When buffered history is committed: in the quiet gap after a train of due runs, or
at the latest 250 ms after the last commit, even while runs never stop (README: a crash
loses at most that window of history)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tui_sched import App
from tui_sched.engine.flushing import FLUSH_LATEST, FlushPolicy
from tui_sched.engine.scheduler import Engine
from tui_sched.store.sqlite import SqliteRunStore


class _Elapsed:
    """Real elapsed time as the test says it is."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_history_is_committed_before_a_quiet_gap_and_deferred_inside_a_train() -> None:
    commits: list[float] = []
    elapsed = _Elapsed()
    policy = FlushPolicy(lambda: commits.append(elapsed.t), elapsed)
    now = 50.0
    # Nothing due for a second: commit now, and say the engine is about to be quiet.
    assert policy.step(now, now + 1.0, woken=False) is True
    assert commits == [1000.0] and policy.flush_at is None
    policy.woke()
    # The next start is a millisecond away (a train): wait, at most FLUSH_LATEST.
    elapsed.t += 0.1
    assert policy.step(now, now + 0.001, woken=False) is False
    assert commits == [1000.0]
    assert policy.flush_at == pytest.approx(now + FLUSH_LATEST - 0.1)
    elapsed.t += 0.2  # 300 ms without a commit: now, even in the middle of a train
    assert policy.step(now, now + 0.001, woken=True) is False
    assert commits == [1000.0, pytest.approx(1000.3)]


@pytest.mark.slow
def test_runs_are_committed_while_the_engine_never_stops_running_them(tmp_path: Path) -> None:
    # `true` in `main`: a run starts as soon as the last one ended, so the engine is never
    # quiet. Another process reading the history file (the TUI, `tui-sched history`)
    # still sees runs that ended a moment ago.
    path = tmp_path / "h.sqlite3"
    app = App(state_dir=None)
    app.task("true", func=lambda: None, execution="main", name="busy")
    engine = Engine(app.session, SqliteRunStore(path))
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    try:
        assert engine.ready.wait(10)
        lags = []
        reader = sqlite3.connect(path)
        tick = threading.Event()  # never set: a 0.1 s pace for the reader
        for _ in range(10):
            tick.wait(0.1)
            newest = reader.execute("SELECT max(end) FROM runs").fetchone()[0]
            if newest is not None:
                lags.append(time.time() - newest)
        reader.close()
    finally:
        engine.request_stop()
        thread.join(20)
        engine.store.close()
    assert len(lags) >= 8
    # Committed every 250 ms at the latest (the writer's own pace and a loaded machine
    # add to that; a policy that waited for a quiet gap would never commit here).
    assert sorted(lags)[len(lags) // 2] < 1.0
