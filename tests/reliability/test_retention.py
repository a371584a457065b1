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


class _CountingStore(SqliteRunStore):
    """A real store that also counts the engine's prune calls."""

    prunes = 0

    def prune(self, keep_per_task: int | None, older_than: float | None,
              tasks: list[str] | None = None) -> int:
        self.prunes += 1
        return super().prune(keep_per_task, older_than, tasks)


def test_the_start_up_sweep_skips_tasks_without_history(tmp_path: Path) -> None:
    store = _CountingStore(tmp_path / "h.sqlite3")
    app = App(state_dir=None)
    for k in range(40):
        app.task("every 10 minutes", func=lambda: None, name=f"t{k}", execution="main")
    with EngineRunner(app.session, store=store) as r:
        for k in range(40):
            r.finished(f"t{k}")
        r.sync()
        # A fresh store has nothing to prune: no store call (each waits for the writer).
        assert store.prunes == 0
    store.close()


def _busy_and_kept(tmp_path: Path) -> tuple[_CountingStore, App]:
    store = _CountingStore(tmp_path / "h.sqlite3")
    app = App(state_dir=None)
    app.task("every 10 minutes", func=lambda: None, name="kept", execution="main")
    app.task("every 10 milliseconds", func=lambda: None, name="busy", execution="main")
    return store, app


def _no_gap_for_a_while(r: EngineRunner, store: _CountingStore) -> None:
    r.finished("kept")
    for _ in range(5):
        r.advance(0.011)  # "busy" is always due again within 10 ms: no gap to prune in
    assert len(r.finishes("busy")) >= 5
    assert store.prunes == 0


def test_pruning_waits_for_a_gap_in_the_schedule(tmp_path: Path) -> None:
    store, app = _busy_and_kept(tmp_path)
    # keep_runs=10: each finished run of a task queues it for pruning.
    with EngineRunner(app.session, store=store, keep_runs=10) as r:
        _no_gap_for_a_while(r, store)
        app.session["busy"].disabled = True
        r.advance(0.011)
        r.advance(0.011)
        assert store.prunes >= 1  # the next start is ten minutes away
    store.close()


def test_pruning_waits_at_most_five_seconds_for_a_gap(tmp_path: Path) -> None:
    store, app = _busy_and_kept(tmp_path)
    with EngineRunner(app.session, store=store, keep_runs=10) as r:
        _no_gap_for_a_while(r, store)
        r.advance(5.0)
        assert store.prunes >= 1
    store.close()
