"""Commit history while a ``main`` task holds the scheduler loop.

History is committed in batches (once per busy window, and before the engine sleeps). A
``main`` run blocks the loop, so a long one would keep its own start uncommitted, and a
crash during it would leave no trace. This watcher, on its own thread, commits once when
a blocking run has lasted longer than ``after`` seconds. It costs one flag per main run
and sleeps while no main run is going.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class BlockWatch:
    """Calls ``flush`` once per blocking run that lasts longer than ``after`` seconds.

    Args:
        flush: Commits the store (thread-safe).
        after: Seconds a blocking run may last before its start is committed.
        on_error: Told when ``flush`` raises (the watcher keeps going).
    """

    def __init__(self, flush: Callable[[], None], after: float = 0.05,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self._flush = flush
        self._after = after
        self._on_error = on_error
        self._cond = threading.Condition()
        self._active: int | None = None
        self._token = 0
        self._idle = False
        self._closed = False
        self._thread = threading.Thread(target=self._watch, name="tui-sched-blockwatch",
                                        daemon=True)
        self._thread.start()

    def enter(self) -> None:
        """A blocking run starts (engine thread)."""
        self._token += 1
        self._active = self._token
        if self._idle:  # only wake a watcher that sleeps without a timeout
            with self._cond:
                self._cond.notify()

    def exit(self) -> None:
        """The blocking run returned (engine thread)."""
        self._active = None  # a plain store: the watcher only compares tokens

    def close(self) -> None:
        """Stop the watcher thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _watch(self) -> None:
        flushed: int | None = None
        seen = self._token
        with self._cond:
            while not self._closed:
                if self._token == seen and (self._active is None or self._active == flushed):
                    # Nothing new since the last look: sleep until enter() wakes us.
                    self._idle = True
                    if self._token == seen:
                        self._cond.wait()
                    self._idle = False
                    continue
                seen = self._token
                token = self._active
                if token is None or token == flushed:
                    # Main runs come and go: look again after a while (only while busy).
                    self._cond.wait(self._after)
                    continue
                self._cond.wait(self._after)
                if self._active == token and not self._closed:
                    flushed = token
                    try:
                        self._flush()
                    except BaseException as exc:  # reported, never fatal
                        if self._on_error is not None:
                            self._on_error(exc)
