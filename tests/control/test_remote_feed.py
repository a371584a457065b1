"""The attached UI's feed (``tui.remote.RemoteFeed``) on a real socket: what it posts to
the screen (log lines and tables), without drawing them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from serverkit import serving_app
from textual.message import Message

from tui_sched import App
from tui_sched.engine import events as ev
from tui_sched.store.base import Outcome
from tui_sched.tui.messages import EventBatch, SnapshotReady
from tui_sched.tui.remote import RemoteFeed


class Screen:
    """Collects what the feed posts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.changed = threading.Event()

    def post_message(self, message: Message) -> bool:
        self.messages.append(message)
        self.changed.set()
        return True

    def notify(self, message: str, **_: Any) -> None:
        pass

    def log(self) -> list[ev.Event]:
        return [e for m in self.messages if isinstance(m, EventBatch) for e in m.events]

    async def until(self, pred: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not pred():
            assert time.monotonic() < deadline, f"not seen; got {self.messages[-5:]}"
            self.changed.clear()
            await asyncio.to_thread(self.changed.wait, 0.5)


def _app() -> App:
    app = App(state_dir=None)

    @app.task()
    def manual() -> None:
        print("manual ran")

    return app


def test_the_log_shows_every_event_even_one_stamped_earlier_than_one_already_shown(tmp_path: Path) -> None:
    # A run's end is stamped on its worker thread and published by the engine later:
    # events do not arrive in the order of their times.
    screen = Screen()

    def errors() -> list[str]:
        return [e.message for e in screen.log() if isinstance(e, ev.EngineError)]

    with serving_app(_app(), tmp_path / "state") as (host, _srv, _rec):
        async def watch() -> list[str]:
            feed = RemoteFeed(tmp_path / "state", screen)
            feed.start()
            await screen.until(lambda: any(isinstance(m, SnapshotReady) for m in screen.messages))
            now = time.time()
            host.bus.publish(ev.EngineError(now + 5, "stamped later"))
            await screen.until(lambda: "stamped later" in errors())
            host.bus.publish(ev.EngineError(now, "stamped earlier, published after"))
            await screen.until(lambda: "stamped earlier, published after" in errors())
            feed.stop()
            return errors()


        messages = asyncio.run(watch())
    assert messages[-2:] == ["stamped later", "stamped earlier, published after"]


def test_the_table_follows_a_run_without_a_new_snapshot(tmp_path: Path) -> None:
    with serving_app(_app(), tmp_path / "state", full_every=3600) as (host, _srv, _rec):
        async def watch() -> tuple[Any, Any]:
            screen = Screen()
            feed = RemoteFeed(tmp_path / "state", screen)
            feed.start()
            await screen.until(lambda: "manual" in feed.rows)
            before = feed.rows["manual"]
            host.engine.session["manual"].force_run = True  # type: ignore[union-attr]
            await screen.until(lambda: feed.rows["manual"].last_outcome == Outcome.SUCCESS)
            feed.stop()
            return before, feed.rows["manual"]

        before, after = asyncio.run(watch())
    assert before.last_outcome is None and before.strip == ()
    assert after.strip == (Outcome.SUCCESS,) and after.running_since is None
