"""When the engine hands buffered history to the store's writer."""

from __future__ import annotations

import time
from collections.abc import Callable

#: History is committed when nothing is due for this long (seconds) ...
FLUSH_GAP = 0.02
#: ... or at the latest this long after the last commit, even during a burst.
FLUSH_LATEST = 0.25


class FlushPolicy:
    """Commits history when the engine is about to be quiet (nothing due for
    ``FLUSH_GAP``), and at the latest ``FLUSH_LATEST`` after the last commit, even in
    the middle of a burst of starts.

    One commit covers hundreds of runs, and a crash loses at most that window of history
    (runs left open are still closed as ``crash`` at restart). A commit made in the
    middle of a burst, even on the writer's thread, competes with the burst's runs for
    the interpreter and the CPU, and every later start of the burst is that much late
    (and, for ``every``, the next start counts from the late one); made in the gap after
    it, it delays nothing.

    Args:
        flush: Hands the buffered history to the writer.
        monotonic: Real elapsed time (whatever the engine's clock says).

    Attributes:
        flush_at: A deferred commit's latest time (engine clock), for the engine's
            deadline; ``None`` when none is deferred.
    """

    def __init__(self, flush: Callable[[], None],
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._flush = flush
        self._monotonic = monotonic
        self._flushed_at = 0.0
        self.flush_at: float | None = None

    def step(self, now: float, deadline: float | None, woken: bool) -> bool:
        """Commit if it is time (``deadline``: the engine's next wake-up; ``woken``:
        something already asked for another turn), else set ``flush_at``.

        Returns:
            Whether everything was committed because the engine is about to be quiet.
        """
        mono = self._monotonic()
        since = mono - self._flushed_at
        self.flush_at = None
        quiet = not woken and (deadline is None or deadline - now >= FLUSH_GAP)
        if not quiet and since < FLUSH_LATEST:
            self.flush_at = now + (FLUSH_LATEST - since)
            return False
        self._flush()
        self._flushed_at = mono
        # Quiet even when it was also overdue (the first round after start-up, or after a
        # long stall): else the next round's window would count from this flush, ~1 s ago,
        # and its first turn would commit in the middle of its train.
        return quiet

    def woke(self) -> None:
        """The engine woke from a quiet sleep after ``step`` committed everything: the
        next window of uncommitted history opens now, not when the last one was handed
        on."""
        self._flushed_at = self._monotonic()
