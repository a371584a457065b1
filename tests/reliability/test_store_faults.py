"""A history file that fails never stops the scheduler; a corrupt one is moved aside."""

from __future__ import annotations

import signal
import textwrap
from pathlib import Path

from cli_process import Headless
from harness import EngineRunner

from tui_sched import App
from tui_sched.engine.events import EngineError
from tui_sched.store.base import Outcome
from tui_sched.store.resilient import ResilientStore
from tui_sched.store.sqlite import SqliteRunStore

TASKS = textwrap.dedent('''
    from tui_sched import App
    app = App()

    @app.task("every 1 second", execution="main")
    def tick():
        print("ticked")
''')


def test_a_corrupt_history_file_is_moved_aside_never_deleted(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "t.py").write_text(TASKS)
    state = tmp_path / ".tui-sched"
    state.mkdir()
    garbage = b"this is not a database" * 100
    (state / "history.sqlite3").write_bytes(garbage)
    proc = Headless("tasks", cwd=tmp_path)
    try:
        line = proc.expect("was corrupt; it was moved to")
        proc.expect("tick: success")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
    aside = [p for p in state.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1 and str(aside[0]) in line
    assert aside[0].read_bytes() == garbage
    store = SqliteRunStore.open_readonly(state / "history.sqlite3")
    assert {r.task for r in store.history()} == {"tick"}
    store.close()


def test_a_store_that_fails_mid_run_degrades_to_memory_and_scheduling_goes_on(tmp_path: Path) -> None:
    inner = SqliteRunStore(tmp_path / "h.sqlite3")
    store = ResilientStore(inner)
    app = App(state_dir=None)
    app.task("every 10 seconds", func=lambda: 1, name="tick", execution="main")
    with EngineRunner(app.session, store=store) as r:
        r.finished("tick")
        inner.close()  # the file is gone from under us (disk full, unmounted, ...)
        r.advance(10)
        r.finished("tick", 2)
        r.advance(10)
        runs = r.finished("tick", 3)
        errors = [e for e in r.events if isinstance(e, EngineError)]
    assert [run.outcome for run in runs] == [Outcome.SUCCESS] * 3
    assert len(errors) == 1 and "no longer persisted" in errors[0].message
    assert store.degraded
    ids = [run.id for run in runs]
    assert ids == sorted(set(ids))  # ids stay unique across the switch
