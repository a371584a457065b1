"""Messages the bridge posts from engine threads (toolong style: small dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tui_sched.engine.events import Event
from tui_sched.tui.logfmt import LogEntry
from tui_sched.tui.model import Snapshot


@dataclass
class EventBatch(Message):
    """Engine events collected over one batching window, oldest first."""

    events: list[Event]


@dataclass
class SnapshotReady(Message):
    """The latest state of every task; a newer one replaces it if both are queued."""

    snapshot: Snapshot

    def can_replace(self, message: Message) -> bool:
        """A slow UI only ever processes the latest snapshot."""
        return isinstance(message, SnapshotReady)


@dataclass
class HostStopped(Message):
    """The engine thread ended (shut down, or died: then ``error`` says why)."""

    error: str | None


@dataclass
class Attached(Message):
    """An attached UI (re)connected to the scheduler with process id ``pid``."""

    pid: int


@dataclass
class Detached(Message):
    """An attached UI lost its scheduler (``retrying``: it reconnects by itself)."""

    reason: str
    retrying: bool


@dataclass
class HistoryLoaded(Message):
    """Log lines of the runs before the engine started (sent once, to fill the log)."""

    entries: list[LogEntry]
