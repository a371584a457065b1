"""The ``last_alive`` heartbeat: how long the scheduler was down is measured from it after
a crash (the missed slots it owes, see ``misfire``)."""

from __future__ import annotations

from tui_sched.store.base import RunStore

KEY = "last_alive"
#: The heartbeat's resolution: a crash loses at most this much of "when were we down".
EVERY = 10.0


class Heartbeat:
    """Writes the current time to the store's meta table every ``EVERY`` seconds, also
    when the engine is idle (``next_at`` is part of its deadline), and at once when the
    wall clock went back past the last beat (else it would fall silent until the clock
    caught up again).

    Args:
        store: Where it is written.
    """

    def __init__(self, store: RunStore) -> None:
        self._store = store
        self._written = 0.0

    def last(self) -> float | None:
        """The heartbeat a previous run of the scheduler left, if any."""
        stored = self._store.get_meta(KEY)
        return None if stored is None else float(stored)

    def beat(self, now: float) -> None:
        """Write ``now``."""
        self._written = now
        self._store.set_meta(KEY, repr(now))

    def maybe_beat(self, now: float) -> None:
        """Write ``now`` if the last beat is ``EVERY`` old (or in the future)."""
        if not 0.0 <= now - self._written < EVERY:
            self.beat(now)

    def next_at(self) -> float:
        """When the next beat is due."""
        return self._written + EVERY
