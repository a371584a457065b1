"""The reloader with an ``EngineHost`` (it follows restarts) and in ``tui-sched run``."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from cli_process import Headless
from harness import START
from reloadkit import module, write

from tui_sched.engine.bus import EventBus
from tui_sched.engine.clock import FakeClock
from tui_sched.engine.events import Event, ModuleLoaded, RunFinished
from tui_sched.engine.host import EngineHost
from tui_sched.reload import FolderBuilder, Reloader, ReloadSettings, WatchStatus
from tui_sched.store.sqlite import SqliteRunStore

JOB = module('''
    @app.task()
    def job():
        return 1
''')


class Events:
    """Records bus events; waits on them with a deadline."""

    def __init__(self, bus: EventBus) -> None:
        self.items: list[Event] = []
        self.cond = threading.Condition()
        bus.subscribe(self._add)

    def _add(self, e: Event) -> None:
        with self.cond:
            self.items.append(e)
            self.cond.notify_all()

    def wait(self, pred: object, since: int = 0) -> Event:
        def find() -> Event | None:
            return next((e for e in self.items[since:] if pred(e)), None)  # type: ignore[operator]

        with self.cond:
            found = self.cond.wait_for(find, 10)
        assert found is not None, self.items[-8:]
        return found

    def mark(self) -> int:
        with self.cond:
            return len(self.items)


def test_reloads_follow_engine_host_restarts(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    jobs = write(folder / "jobs.py", JOB)
    bus = EventBus()
    events = Events(bus)
    reloader = Reloader(folder, bus=bus, settings=ReloadSettings(import_timeout=3))
    builder = FolderBuilder(reloader, lambda: SqliteRunStore(tmp_path / "state.sqlite3"))
    host = EngineHost(builder, bus=bus, clock=FakeClock(START))
    host.start()
    try:
        first = host.wait_engine(10)
        assert first is not None
        events.wait(lambda e: isinstance(e, WatchStatus) and e.state == "watching")
        first.session.restart()
        with host.engine_changed:
            assert host.engine_changed.wait_for(lambda: host.engine is not first, 10)
        second = host.wait_engine(10)
        assert second is not None and second.session is not first.session
        assert reloader.session is second.session
        mark = events.mark()
        write(jobs, JOB + "\n@app.task()\ndef added_later():\n    return 2\n")
        events.wait(lambda e: isinstance(e, ModuleLoaded) and e.added == ("added_later",), mark)
        assert "added_later" in second.session and "added_later" not in first.session
        second.session.run_task("added_later")
        events.wait(lambda e: isinstance(e, RunFinished) and e.run.task == "added_later", mark)
    finally:
        reloader.stop()
        host.shutdown()
        assert host.join(15)


def test_headless_run_logs_reloads_and_failures(tmp_path: Path) -> None:
    jobs = write(tmp_path / "tasks" / "jobs.py", JOB)
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("reload: watching")
        write(jobs, JOB + "\n@app.task()\ndef second():\n    return 2\n")
        proc.expect("module tasks/jobs.py reloaded: added second")
        write(jobs, JOB + "\ndef broken(:\n")
        line = proc.expect("failed to load")
        assert f"module tasks/jobs.py:{JOB.count(chr(10)) + 2} failed to load: SyntaxError" in line
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
