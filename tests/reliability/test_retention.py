"""History retention keeps the store bounded however many runs there are."""

from __future__ import annotations

from pathlib import Path

from harness import EngineRunner

from tui_sched import App
from tui_sched.store.sqlite import SqliteRunStore


def test_retention_bounds_the_store_over_many_runs(tmp_path: Path) -> None:
    store = SqliteRunStore(tmp_path / "h.sqlite3")
    app = App(state_dir=None)
    counter = {"n": 0}

    def work() -> None:
        counter["n"] += 1
        if counter["n"] >= 10_000:
            app.session["work"].disabled = True

    app.task("true", func=work, execution="main")
    with EngineRunner(app.session, store=store, keep_runs=500) as r:
        r.finished("work", 10_000, timeout=120)
        r.sync()
        sizes = r.engine.call(lambda: len(store.history("work", limit=100_000))).result()
    assert counter["n"] == 10_000
    # At most the kept runs plus what finished since the task was last pruned (a tenth
    # of keep_runs queues it again).
    assert 500 <= sizes <= 500 + 50
    store.close()


def test_the_hourly_sweep_prunes_history_older_than_keep_days(tmp_path: Path) -> None:
    store = SqliteRunStore(tmp_path / "h.sqlite3")
    app = App(state_dir=None)
    app.task("every 10 minutes", func=lambda: None, name="tick", execution="main")
    with EngineRunner(app.session, store=store, keep_days=0.1) as r:  # 2.4 hours
        r.finished("tick", 1)
        first = r.finishes("tick")[0].id
        for _ in range(18):  # three hours, a run every ten minutes
            r.advance(600)
        r.finished("tick", 19)
        r.sync()
        kept = r.engine.call(lambda: [run.id for run in store.history("tick", limit=100)]).result()
    # The sweep at the start of each hour dropped what had ended 2.4 hours before it.
    assert first not in kept
    assert 14 <= len(kept) <= 19
    store.close()
