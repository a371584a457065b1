"""A subscriber's task table, kept current from the run events between snapshots.

The scheduler sends a whole snapshot only now and then (``control.server``): building one
costs its engine thread a look at every task, and with 1,000 tasks running every second
that was a third again of the scheduler's CPU. Between two snapshots a subscriber already
receives every run's start and end, which is what changes a row while tasks only run:
``LiveTable`` applies them to the latest snapshot as ``build_snapshot`` would show them,
and the scheduler's ``Progress`` adds what events cannot say (the time, the next
wake-ups). Anything else (a task disabled, added or changed, a restart) makes the
scheduler send a snapshot.

Each event has a sequence number, and a snapshot says the last one it shows: an event is
applied only to a snapshot older than it, whichever of the two arrives first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from tui_sched.engine import events as ev
from tui_sched.engine.snapshot import STRIP_LEN, Snapshot, TaskRow
from tui_sched.store.base import Outcome, Trigger

ROW_EVENTS = (ev.RunStarted, ev.RunTerminating, ev.RunFinished)
"""Events a subscriber applies to its rows itself (the scheduler sends no snapshot for
them)."""

_FAILED = (Outcome.FAIL, Outcome.CRASH)


class LiveTable:
    """The latest snapshot with the run events and progress received since applied."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        """What to show (``None`` until the first snapshot)."""
        self._base_seq = 0  # the last event the latest whole snapshot shows
        self._later: list[tuple[int, ev.Event]] = []  # row events after the base
        self._rows: dict[str, TaskRow] = {}
        self._running: dict[str, dict[int, float]] = {}  # runs started after the base

    def rebase(self, snapshot: Snapshot, seq: int) -> Snapshot:
        """A whole snapshot showing the events up to ``seq``; returns what to show."""
        if self.snapshot is not None and seq < self._base_seq:
            # An older one than we have (a reply that crossed a push): keep the newer one,
            # but take what a reply brings besides the rows (the selected task's tree).
            self.snapshot = dataclasses.replace(self.snapshot, selected=snapshot.selected,
                                                explanation=snapshot.explanation, why=snapshot.why)
            return self.snapshot
        self._base_seq = seq
        self._later = [(s, e) for s, e in self._later if s > seq]
        self._rows = {r.name: r for r in snapshot.rows}
        self._running = {}
        self.snapshot = snapshot
        self._apply([e for _, e in self._later], snapshot.at, snapshot.facts.running,
                    snapshot.facts.failures_hour)
        return self.snapshot

    def add_events(self, seq: int, events: Sequence[ev.Event | None]) -> bool:
        """Events numbered from ``seq`` on (``None``: one this process cannot read);
        returns whether the table changed."""
        fresh = [(s, e) for s, e in enumerate(events, seq)
                 if s > self._base_seq and isinstance(e, ROW_EVENTS)]
        if not fresh:
            return False
        self._later.extend(fresh)
        if self.snapshot is None:
            return False
        facts = self.snapshot.facts
        self._apply([e for _, e in fresh], self.snapshot.at, facts.running, facts.failures_hour)
        return True

    def progress(self, at: float, wakes: dict[str, float | None]) -> Snapshot | None:
        """The scheduler's time and next wake-ups; returns what to show."""
        if self.snapshot is None:
            return None
        rows = self._rows
        for name, wake in wakes.items():
            row = rows.get(name)
            if row is not None and row.next_wake != wake:
                rows[name] = dataclasses.replace(row, next_wake=wake)
        self.snapshot = dataclasses.replace(self.snapshot, at=max(at, self.snapshot.at),
                                            rows=tuple(rows.values()))
        return self.snapshot

    def _apply(self, events: list[ev.Event], at: float, running: int, failures: int) -> None:
        """``events`` (run events newer than the base) on the rows, as ``build_snapshot``
        would show them."""
        assert self.snapshot is not None
        rows = self._rows
        for e in events:
            run = e.run  # type: ignore[attr-defined]
            row = rows.get(run.task)
            if row is None:  # a task added since: its snapshot is on the way
                continue
            at = max(at, e.at)
            changes: dict[str, Any]
            if isinstance(e, ev.RunStarted):
                self._running.setdefault(run.task, {})[run.id] = run.start
                since = run.start if row.running_since is None else min(row.running_since, run.start)
                changes = {"running_since": since}
                if run.trigger == Trigger.FORCED:
                    changes["queued"] = False
                running += 1
            elif isinstance(e, ev.RunTerminating):
                changes = {"terminating": row.running_since is not None}
            else:
                # Runs that started before the base are not known by number: the end of
                # one takes the row out of "running" unless a later one is still on.
                # (Two runs of one task at once, both older than the snapshot: the row
                # shows the second as ended until the next snapshot, a few seconds.)
                mine = self._running.get(run.task, {})
                mine.pop(run.id, None)
                since = min(mine.values()) if mine else None
                changes = {"running_since": since, "terminating": row.terminating and since is not None,
                           "last_start": run.start, "last_end": run.end, "last_outcome": run.outcome,
                           "strip": (*row.strip, run.outcome)[-STRIP_LEN:]}
                running = max(0, running - 1)
                failures += run.outcome in _FAILED
            rows[run.task] = dataclasses.replace(row, **changes)
        snap = self.snapshot
        self.snapshot = dataclasses.replace(
            snap, at=at, rows=tuple(rows.values()),
            facts=dataclasses.replace(snap.facts, running=running, failures_hour=failures))
