"""Keep the cyclic garbage collector's full passes short while the engine runs.

A full collection walks every tracked object in the oldest generation. A scheduler's
long-lived objects only grow (tasks, conditions, and each task's recent runs: a tuple
per run, up to 256 per task), so with 5,000 tasks a full pass took 20-60 ms every few
seconds, and every start due during it was that late.

The policy: freeze what exists when the engine starts, and again right after each full
collection. Survivors of a full collection are live, so freezing them freezes no
garbage; frozen objects are left out of later passes, which then only walk what is new.
Reference counting still frees frozen objects; only a cycle among them would stay, so
the engine thaws everything when code is swapped out (a reload) or it stops, and the
next full pass can collect the old code's cycles.
"""

from __future__ import annotations

import gc
from typing import Any


class GcPolicy:
    """Installs the freeze-after-full-collection hook (engine thread)."""

    def __init__(self) -> None:
        self._installed = False
        self.freezes = 0
        """How many times survivors were frozen (tests and benchmarks)."""

    def install(self) -> None:
        """Freeze what exists now and after each full collection."""
        if not self._installed:
            gc.callbacks.append(self._on_gc)
            self._installed = True
        gc.freeze()
        self.freezes += 1

    def thaw(self) -> None:
        """Give frozen objects back to the collector (old code may now be garbage)."""
        gc.unfreeze()

    def uninstall(self) -> None:
        """Remove the hook and thaw."""
        if self._installed:
            gc.callbacks.remove(self._on_gc)
            self._installed = False
        gc.unfreeze()

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info.get("generation") == 2:
            gc.freeze()
            self.freezes += 1
