"""Helpers for condition tests: a hand-built status index and context at fake times."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from tui_sched.conditions.context import Context, TaskStatus
from tui_sched.store.base import Outcome

UTC = ZoneInfo("UTC")


def at(text: str, tz: str = "UTC", fold: int = 0) -> float:
    """Epoch seconds of a local wall time, e.g. ``at("2024-03-31 02:30", "Europe/Berlin")``."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz), fold=fold).timestamp()


@dataclass
class Statuses:
    """A ``StatusView`` that tests fill by hand."""

    by_task: dict[str, TaskStatus] = field(default_factory=dict)

    def status(self, task: str) -> TaskStatus:
        return self.by_task.setdefault(task, TaskStatus())

    def start(self, task: str, when: float) -> None:
        s = self.status(task)
        s.last_start = when
        s.running.append(when)

    def finish(self, task: str, start: float, end: float, outcome: Outcome) -> None:
        """Record a whole run (start and end)."""
        s = self.status(task)
        if s.last_start is None or start > s.last_start:
            s.last_start = start
        if start in s.running:
            s.running.remove(start)
        s.last_end[outcome] = max(end, s.last_end.get(outcome, end))
        s.recent.append((start, end, outcome.value))

    def ctx(self, now: float, tz: str = "UTC", task: str | None = "me", **kw: object) -> Context:
        return Context(now, ZoneInfo(tz), task, self, **kw)  # type: ignore[arg-type]
