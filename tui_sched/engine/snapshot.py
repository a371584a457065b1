"""What a scheduler shows at one instant, as plain frozen values built on the engine thread.

``build_snapshot`` runs inside the engine (through ``Engine.call``) so it reads the status
index and wake-up times consistently. The in-process UI (``tui.bridge``) and the control
socket (``control.server``, for ``attach`` and ``ctl status``) both send these values, so
a UI over the socket shows exactly what the embedded one does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING

from tui_sched.conditions.context import RecentRun
from tui_sched.conditions.explain import Explanation, explain
from tui_sched.engine.why import Why, why_of
from tui_sched.frozen import value
from tui_sched.store.base import Outcome, RunRecord

if TYPE_CHECKING:
    from tui_sched.engine.scheduler import Engine
#: Outcomes kept per task for the strip of recent runs.
STRIP_LEN = 10

RunTuple = tuple[float, float, Outcome]
"""``(start, end, outcome)`` of a finished run."""


class Status(StrEnum):
    """The one-word state of a task shown in the table (always with its symbol)."""

    IDLE = "idle"
    QUEUED = "queued"
    RUNNING = "running"
    TERMINATING = "terminating"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TERMINATED = "terminated"
    CRASHED = "crashed"
    DISABLED = "disabled"
    MISSED = "missed"

    @property
    def symbol(self) -> str:
        """A one-cell symbol, so the status never depends on colour."""
        return _STATUS_SYMBOLS[self]


_STATUS_SYMBOLS = {
    Status.IDLE: "·", Status.QUEUED: "»", Status.RUNNING: "▶", Status.TERMINATING: "◼",
    Status.SUCCEEDED: "✓",
    Status.FAILED: "✗", Status.TERMINATED: "■", Status.CRASHED: "!", Status.DISABLED: "⊘",
    Status.MISSED: "↷",
}

_OUTCOME_STATUS = {
    Outcome.SUCCESS: Status.SUCCEEDED, Outcome.FAIL: Status.FAILED,
    Outcome.TERMINATE: Status.TERMINATED, Outcome.CRASH: Status.CRASHED,
    Outcome.MISSED: Status.MISSED, Outcome.INACTION: Status.IDLE, Outcome.SKIPPED: Status.IDLE,
}

OUTCOME_SYMBOLS = {
    Outcome.SUCCESS: "✓", Outcome.FAIL: "✗", Outcome.TERMINATE: "■", Outcome.CRASH: "!",
    Outcome.INACTION: "-", Outcome.MISSED: "↷", Outcome.SKIPPED: "~",
}


def outcome_status(outcome: Outcome | None) -> Status:
    """The status a finished run leaves its task in."""
    return Status.IDLE if outcome is None else _OUTCOME_STATUS[outcome]


@value
class TaskRow:
    """One task as the table shows it. Times are epoch seconds.

    A ``@value``, not a ``@dataclass``: a busy task's row is made anew in every snapshot,
    in 1 µs instead of a frozen dataclass's 3.4 (``build_snapshot`` passes the fields by
    position: by keyword they cost 2.7 µs)."""

    name: str
    execution: str
    condition: str
    disabled: bool
    queued: bool
    running_since: float | None
    last_start: float | None
    last_end: float | None
    last_outcome: Outcome | None
    strip: tuple[Outcome, ...]
    next_wake: float | None
    waits_for: tuple[str, ...]
    terminating: bool = False

    @property
    def status(self) -> Status:
        """Running beats queued beats disabled beats the last outcome."""
        if self.running_since is not None:
            return Status.TERMINATING if self.terminating else Status.RUNNING
        if self.queued:
            return Status.QUEUED
        if self.disabled:
            return Status.DISABLED
        return outcome_status(self.last_outcome)

    @property
    def last_duration(self) -> float | None:
        """Duration of the last finished run, if known."""
        if self.last_start is None or self.last_end is None or self.last_end < self.last_start:
            return None
        return self.last_end - self.last_start


@dataclass(frozen=True, slots=True)
class Facts:
    """The header line: the scheduler as a whole."""

    state: str
    started_at: float | None
    tasks: int
    disabled: int
    running: int
    failures_hour: int
    restarts: int
    cluster: str | None = None
    """Where ``dask`` runs go, once connected (address, workers, threads, dashboard)."""
    died_during: str | None = None
    """The runs the last scheduler died during (``nightly (run 12)``), closed as
    ``crash`` at this start: a crash loop shows here until the scheduler starts cleanly."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the main screen shows at one instant."""

    at: float
    tz: tzinfo
    facts: Facts
    rows: tuple[TaskRow, ...]
    selected: str | None
    explanation: Explanation | None
    why: Why = field(default_factory=Why)
    """Facts about the selected task (disabled, what its dependencies last did)."""


@dataclass(frozen=True, slots=True)
class TaskDetail:
    """What the detail screen shows of a task besides its history."""

    name: str
    options: tuple[tuple[str, str], ...]
    explanation: Explanation | None
    tz: tzinfo
    at: float
    why: Why = field(default_factory=Why)


#: An outcome from its value (``TaskStatus.recent`` keeps values; see ``RecentRun``).
_OUTCOME_OF: dict[str, Outcome] = {o.value: o for o in Outcome}


def _last_run(recent: Sequence[RecentRun], seed: list[RunTuple], last_start: float | None,
              last_end: dict[Outcome, float]) -> tuple[float | None, float | None, Outcome | None]:
    if recent:
        start, end, outcome = recent[-1]
        return start, end, _OUTCOME_OF[outcome]
    if seed:
        return seed[-1]
    if not last_end:
        return None, None, None
    outcome, end = max(last_end.items(), key=lambda kv: kv[1])
    return last_start, end, outcome


_FAILED = (Outcome.FAIL, Outcome.CRASH)
_NO_RUNS: list[RunTuple] = []


def _failures_since(recent: Sequence[RecentRun], seed: list[RunTuple],
                    last_end: dict[Outcome, float], since: float) -> tuple[int, float]:
    """Failed or crashed runs among the latest ones, newest first, up to the first that
    ended before ``since``; and the earliest end among those counted (the count holds
    until ``since`` passes it)."""
    # ``last_end`` has the latest end of each outcome over all runs, those in ``recent``
    # and ``seed`` too: most tasks did not fail in the last hour, and that spares them a
    # walk over their (up to 256) recent runs. Zero holds until a new run changes the row.
    if max(last_end.get(Outcome.FAIL, -math.inf), last_end.get(Outcome.CRASH, -math.inf)) < since:
        return 0, math.inf
    count, earliest = 0, math.inf
    for runs in (recent, seed):  # seeded runs: before a restart
        for _, end, outcome in reversed(runs):
            if end < since:
                return count, earliest
            count += outcome in _FAILED
            earliest = min(earliest, end)
    return count, earliest


RowMemo = dict[str, tuple[tuple[object, ...], "TaskRow", int, float, float]]
"""Per task: what its row was made from (its definition first), the row, and its failures
in the last hour with the span of ``hour_ago`` over which that count holds
(``build_snapshot``)."""


def build_snapshot(engine: Engine, selected: str | None,
                   seed: dict[str, list[RunTuple]], restarts: int = 0,
                   memo: RowMemo | None = None) -> Snapshot:
    """The main screen's data (engine thread only: call it through ``engine.call``).

    Args:
        engine: The running engine.
        selected: The task whose condition is explained, if any.
        seed: Runs from before this engine started, per task, oldest first (from
            ``seed_runs``), so the strip survives a restart.
        restarts: How many times the host restarted the engine.
        memo: The rows of earlier snapshots (updated here; one per engine and thread).
            A task whose row inputs (the task, its flags, its latest run, running runs,
            next wake-up) are those of last time keeps that same row object: most of
            2,000 rows do not change between two snapshots, so they cost a comparison
            instead of formatting, and the UI recognises them by identity.
    """
    now = engine.clock.time()
    hour_ago = now - 3600
    terminating = engine.terminating_tasks()
    status, next_wake = engine.status.status, engine.next_wake
    rows: list[TaskRow] = []
    disabled = running = failures = 0
    explanation: Explanation | None = None
    why = Why()
    for task in engine.session.tasks:
        name = task.name
        st = status(name)
        recent = st.recent
        old = seed.get(name, _NO_RUNS)
        cond = task.start_cond
        runs = st.running
        since = min(runs) if runs else None
        wake = next_wake(name)
        ending = name in terminating
        defined = (task, task.target, task.options, cond)
        key = (defined, task.disabled, task.force_run,
               len(recent), recent[-1] if recent else None, old, st.last_start,
               None if recent or old else tuple(st.last_end.items()), since, wake, ending)
        cached = memo.get(name) if memo is not None else None
        if memo is not None and cached is not None and cached[0] == key:
            row = cached[1]
            failed, valid_from, valid_to = cached[2:]
            if not valid_from <= hour_ago <= valid_to:
                failed, valid_to = _failures_since(recent, old, st.last_end, hour_ago)
                memo[name] = (key, row, failed, hour_ago, valid_to)
        else:
            last = _last_run(recent, old, st.last_start, st.last_end)
            latest: list[RunTuple | RecentRun] = list(recent)[-STRIP_LEN:]
            if len(latest) < STRIP_LEN and old:
                latest = [*old[len(latest) - STRIP_LEN:], *latest]
            if cached is not None and cached[0][0] == defined:
                # The same definition: its texts too (formatting a condition is about
                # a quarter of a row's cost, and a busy task's row changes every run).
                prev = cached[1]
                execution, condition, waits_for = prev.execution, prev.condition, prev.waits_for
            else:
                execution = "command" if task.kind == "command" else task.execution
                condition = task.condition_text
                waits_for = tuple(sorted(cond.task_refs())) if cond is not None else ()
            strip = tuple([_OUTCOME_OF[o] for _, _, o in latest])
            # In field order: by keyword, ``@value``'s constructor costs 2.7 µs instead of 1.
            row = TaskRow(name, execution, condition, task.disabled, task.force_run, since,
                          *last, strip, wake, waits_for, ending)
            failed, valid_to = _failures_since(recent, old, st.last_end, hour_ago)
            if memo is not None:
                memo[name] = (key, row, failed, hour_ago, valid_to)
        rows.append(row)
        failures += failed
        disabled += task.disabled
        running += len(runs)
        if name == selected:
            why = Why(task.disabled)
        if name == selected and cond is not None:
            ctx = engine.context()
            ctx.task = name
            explanation = explain(cond, ctx)
            why = why_of(engine, name, explanation)
    if memo is not None and len(memo) > len(rows):  # tasks removed since
        names = {r.name for r in rows}
        for name in [n for n in memo if n not in names]:
            del memo[name]
    died_during = ", ".join(f"{r.task} (run {r.id})" for r in engine.recovered) or None
    facts = Facts(engine.state, engine.started_at, len(rows), disabled, running, failures, restarts,
                  engine.cluster, died_during)
    return Snapshot(now, engine.tz, facts, tuple(rows), selected, explanation, why)


def seed_runs(engine: Engine, limit: int = 5000) -> dict[str, list[RunTuple]]:
    """Finished runs from before ``engine`` started, per task, oldest first (engine thread).

    One history query per engine start, so the outcome strips are not empty after a restart.
    """
    started = engine.started_at if engine.started_at is not None else engine.clock.time()
    out: dict[str, list[RunTuple]] = {}
    for rec in engine.store.history(None, limit):
        if rec.end is None or rec.outcome is None or rec.end >= started:
            continue
        runs = out.setdefault(rec.task, [])
        if len(runs) < STRIP_LEN:
            runs.append((rec.start, rec.end, rec.outcome))
    for runs in out.values():
        runs.reverse()
    return out


def earlier_runs(engine: Engine, limit: int = 100) -> list[RunRecord]:
    """The latest finished runs from before ``engine`` started, newest first (engine
    thread): what fills the log pane at start-up."""
    started = engine.started_at if engine.started_at is not None else engine.clock.time()
    return [r for r in engine.store.history(None, limit) if r.end is not None and r.end < started]


def build_detail(engine: Engine, name: str) -> TaskDetail | None:
    """The detail screen's options and condition tree (engine thread only)."""
    task = engine.session.get(name)
    if task is None:
        return None
    opts: list[tuple[str, str]] = [
        ("condition", task.condition_text or "(forced runs only)"),
        ("kind", task.kind), ("execution", task.execution), ("disabled", fmt_value(task.disabled)),
        ("module", task.origin or "-"),
    ]
    for key, spec in sorted(type(task.options).model_fields.items()):
        value = getattr(task.options, key)
        # Only what the task sets: defaults would bury it.
        if key == "execution" or value is None or value == {} or value == spec.default:
            continue
        opts.append((key, fmt_value(value)))
    explanation = None
    why = Why(task.disabled)
    if task.start_cond is not None:
        ctx = engine.context()
        ctx.task = name
        explanation = explain(task.start_cond, ctx)
        why = why_of(engine, name, explanation)
    return TaskDetail(name, tuple(opts), explanation, engine.tz, engine.clock.time(), why)


def fmt_value(value: object) -> str:
    """An option's value as the user wrote it, not as Python prints it (``yes``/``no``)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
