"""Keep the cyclic garbage collector's full passes short while the engine runs.

A full collection walks every tracked object of the oldest generation. Most of a
scheduler's long-lived objects exist before it starts (modules, tasks, conditions, the
UI) and live as long as it does; with 5,000 tasks a full pass over them took 20-60 ms,
and every start due during it was that late. (What the engine adds per run is kept
untracked: see ``tui_sched.conditions.context.RecentRun``.)

So the engine freezes what exists when it starts: frozen objects are left out of later
passes. Reference counting still frees them; only a cycle among them would stay, so the
engine thaws everything when code is swapped out (a reload) or it stops, and the
survivors of the next full pass (live by then) are frozen again, once. Objects made
while it runs are collected as usual: nothing is frozen that might become garbage
later (the UI makes plenty, in cycles).
"""

from __future__ import annotations

import gc
from typing import Any


class GcPolicy:
    """Freezes the objects that exist at start-up (engine thread)."""

    def __init__(self) -> None:
        self._hooked = False
        self._armed = False
        self.freezes = 0
        """How many times objects were frozen (tests and benchmarks)."""

    def install(self) -> None:
        """Freeze what exists now."""
        gc.freeze()
        self.freezes += 1

    def thaw(self) -> None:
        """Give frozen objects back to the collector (old code may now be garbage), and
        freeze the survivors of the next full collection."""
        gc.unfreeze()
        self._armed = True
        if not self._hooked:
            gc.callbacks.append(self._on_gc)
            self._hooked = True

    def uninstall(self) -> None:
        """Thaw, and forget any pending re-freeze."""
        self._unhook()
        gc.unfreeze()

    def _unhook(self) -> None:
        self._armed = False
        if self._hooked:
            gc.callbacks.remove(self._on_gc)
            self._hooked = False

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        # (Stays in gc.callbacks until uninstall: removing itself while the collector
        # iterates the callbacks could skip another one.)
        if self._armed and phase == "stop" and info.get("generation") == 2:
            # Just collected: what is left is live, so freezing it freezes no garbage.
            self._armed = False
            gc.freeze()
            self.freezes += 1
