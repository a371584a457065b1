"""An in-process scheduler serving its control socket, for the control tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tui_sched import App
from tui_sched.config import SchedulerConfig
from tui_sched.control.server import ControlServer
from tui_sched.engine import events as ev
from tui_sched.engine.host import EngineHost
from tui_sched.store.memory import MemoryRunStore


def manual_and_hourly() -> App:
    """``manual`` (no condition; prints ``manual ran``) and ``hourly`` (``every 1 hour``:
    it runs at the first tick), in memory."""
    app = App(state_dir=None)

    @app.task()
    def manual() -> None:
        print("manual ran")

    @app.task("every 1 hour")
    def hourly() -> None:
        pass

    return app


class Recorder:
    """Every bus event, with a way to wait for one."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self._cond = threading.Condition()

    def __call__(self, event: ev.Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, pred: Callable[[ev.Event], bool], timeout: float = 10.0) -> ev.Event:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for e in self.events:
                    if pred(e):
                        return e
                left = deadline - time.monotonic()
                assert left > 0, f"no such event; got {self.events[-10:]}"
                self._cond.wait(left)

    def finished(self, task: str) -> list[ev.RunFinished]:
        with self._cond:
            return [e for e in self.events if isinstance(e, ev.RunFinished) and e.run.task == task]


@contextmanager
def serving_app(app: App, state: Path, **server: Any) -> Iterator[tuple[EngineHost, ControlServer, Recorder]]:
    """``app``'s tasks on a real engine (system clock, in-memory store) with its control
    socket in ``state``."""
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = MemoryRunStore()
    host = EngineHost(lambda: (app.session, store),
                      config=SchedulerConfig(timezone="UTC", shutdown_timeout=5, termination_grace=1))
    rec = Recorder()
    host.bus.subscribe(rec)
    srv = ControlServer(host, state, **server)
    assert srv.start()
    host.start()
    assert host.wait_engine(10) is not None
    try:
        yield host, srv, rec
    finally:
        host.shutdown(force=True)
        host.join(10)
        srv.stop()
