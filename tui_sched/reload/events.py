"""Reload events beyond ``ModuleLoaded`` / ``ModuleFailed`` (which live with the engine's
events): frozen, past tense, published on the same bus."""

from __future__ import annotations

from tui_sched.engine.events import Event
from tui_sched.frozen import value


@value
class ReloadFinished(Event):
    """One reload pass is complete: every ``ModuleLoaded`` / ``ModuleFailed`` of the pass
    was published before it, and the session already holds the result."""

    batch: int
    """Pass counter of this reloader (1, 2, ...); a burst of saves is one pass."""
    files: tuple[str, ...]
    """Every module file the pass looked at (loaded, failed or deleted)."""
    loaded: int
    """How many of them were swapped in (or removed, for deleted files)."""
    failed: int
    """How many failed; their last good version keeps running."""


@value
class ReloadWarning(Event):
    """A module loaded, but something in it deserves attention (e.g. a condition that
    names a task which does not exist yet)."""

    path: str
    message: str


@value
class WatchStatus(Event):
    """The folder watcher's state changed.

    ``state`` is ``watching`` (changes are picked up), ``missing`` (the tasks folder does
    not exist or disappeared: the loaded tasks keep running and the watcher waits for the
    folder to come back), ``error`` (watching failed; retried) or ``stopped``.
    """

    path: str
    state: str
    message: str
