"""A small synchronous event bus. A broken subscriber is logged and skipped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from tui_sched.engine.events import Event

log = logging.getLogger("tui_sched.bus")

Subscriber = Callable[[Event], None]


class EventBus:
    """Delivers each event to every subscriber, on the publishing thread.

    Subscribers must be quick and thread-safe: run output is published from worker
    threads. The TUI's bridge only posts a message; the headless printer writes a line.
    """

    def __init__(self) -> None:
        self._subs: tuple[Subscriber, ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        with self._lock:
            self._subs = (*self._subs, fn)

        def unsubscribe() -> None:
            with self._lock:
                self._subs = tuple(s for s in self._subs if s is not fn)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Deliver ``event``; exceptions in subscribers never reach the publisher."""
        for fn in self._subs:
            try:
                fn(event)
            except Exception:
                log.exception("event subscriber %r failed on %r", fn, event)
