"""Helpers for condition tests: a hand-built status index and context at fake times."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from tui_sched.conditions.base import Condition
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

    def ctx(self, now: float, tz: str | tzinfo = "UTC", task: str | None = "me",
            **kw: object) -> Context:
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return Context(now, zone, task, self, **kw)  # type: ignore[arg-type]


def run_instants(cond: Condition, tz: str | tzinfo, start: float, end: float,
                 step: float = 300, ran_before: float | None = None) -> list[float]:
    """Drive ``cond`` like the engine from ``start`` to ``end``: evaluate, start a run (one
    second long) when true, then jump to ``next_change`` (never further than ``step``).

    Returns the instants at which runs started. ``ran_before``: a run recorded at that
    instant before the simulation begins (so a period already used up stays so).
    """
    s = Statuses()
    if ran_before is not None:
        s.finish("me", ran_before, ran_before + 1, Outcome.SUCCESS)
    runs: list[float] = []
    t = start
    while t < end:
        if cond.evaluate(s.ctx(t, tz, scheduler_started=start)):
            s.finish("me", t, t + 1, Outcome.SUCCESS)
            runs.append(t)
        nxt = cond.next_change(s.ctx(t + 1, tz, scheduler_started=start))
        t = min(t + step, nxt) if nxt is not None and nxt > t + 1 else t + step
    return runs
