"""History retention keeps the store bounded however many runs there are."""

from __future__ import annotations

from pathlib import Path

from harness import EngineRunner

from tui_sched import App
from tui_sched.engine import scheduler
from tui_sched.store.sqlite import SqliteRunStore


def test_retention_bounds_the_store_over_many_runs(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Prune every 1,000 runs instead of 50,000 so the test stays short; the mechanism is
    # the same one that bounds a store over millions of runs.
    monkeypatch.setattr(scheduler, "_PRUNE_AFTER_RUNS", 1_000)
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
    # At most the kept runs plus what finished since the last prune.
    assert 500 <= sizes <= 500 + 1_000
    store.close()
