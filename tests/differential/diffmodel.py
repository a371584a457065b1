"""The two schedulers the differential test compares, and what they are fed.

* ``Reference``: a naive scheduler. At every step of a grid of whole ``GRID`` seconds it
  evaluates the start condition of every task (``Condition.evaluate`` only: no
  ``next_change``, no ``check``, no wake-ups, no dependents index, no caching), starting
  what holds, in passes over all tasks until a pass starts nothing. Obviously correct,
  hopelessly slow.
* ``EngineWorld``: the real ``Engine`` (through ``tests/harness.py``) on a ``FakeClock``,
  moved from one of its own wake-ups to the next, as real time would move it.

Both see the same tasks (``TaskSpec``) and the same operations. Every generated condition
changes its truth only on the grid (windows, cron fields, ``every`` spans and retry
delays are whole multiples of ``GRID``; DST transitions are on the hour), and runs are
``main`` runs that take no fake time, so the reference is exact on its grid.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from harness import EngineRunner

from tui_sched.conditions import parse_condition
from tui_sched.conditions.base import All, Any_, Condition, Not
from tui_sched.conditions.context import Context, TaskStatus
from tui_sched.conditions.cron import Cron
from tui_sched.conditions.periods import Period
from tui_sched.engine.clock import FakeClock
from tui_sched.engine.events import RunStarted
from tui_sched.engine.session import Session
from tui_sched.store.base import Outcome, RunStore, Trigger
from tui_sched.store.memory import MemoryRunStore
from tui_sched.store.sqlite import SqliteRunStore

#: The grid, seconds: every condition the generator writes changes truth only on it.
GRID = 300
#: The misfire grace the tasks use (the default): shorter than a grid step, so a slot
#: that passed while the scheduler was down is missed unless it fires at the restart.
GRACE = 60.0
#: A start counted as one of the two schedulers' starts.
Start = tuple[float, str, str, int]  # (instant, task, trigger, attempt)

ZONES = ("Europe/Berlin", "America/New_York")
#: Local midnights of days with a DST transition in each zone (2026).
DST_DAYS = {
    "Europe/Berlin": ((2026, 3, 29), (2026, 10, 25)),
    "America/New_York": ((2026, 3, 8), (2026, 11, 1)),
}


def zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def start_instant(tz_name: str, which: int, offset_steps: int) -> float:
    """A grid instant ``offset_steps`` after the local midnight a day before DST day
    number ``which`` of the zone."""
    y, m, d = DST_DAYS[tz_name][which]
    midnight = datetime(y, m, d, tzinfo=zone(tz_name)) - timedelta(days=1)
    return midnight.timestamp() + offset_steps * GRID


@dataclass(frozen=True)
class TaskSpec:
    """One task as both schedulers are told about it."""

    name: str
    cond: str
    priority: int
    retries: int = 0
    retry_delay: int = 0
    backoff: float = 1.0
    misfire: str | None = None

    def options(self) -> dict[str, object]:
        opts: dict[str, object] = {"priority": self.priority, "retries": self.retries,
                                   "retry_delay": float(self.retry_delay), "backoff": self.backoff}
        if self.misfire is not None:
            opts["misfire"] = self.misfire
        return opts


class _Statuses:
    """The reference's status bookkeeping: every run it ever started, never forgotten
    (not across restarts either)."""

    def __init__(self) -> None:
        self._by_task: dict[str, TaskStatus] = {}

    def status(self, task: str) -> TaskStatus:
        return self._by_task.setdefault(task, TaskStatus())

    def ran(self, task: str, at: float, outcome: Outcome) -> None:
        st = self.status(task)
        st.last_start = at
        prev = st.last_end.get(outcome)
        st.last_end[outcome] = at if prev is None else max(prev, at)
        st.recent.append((at, at, outcome.value))

    def missed(self, task: str, at: float) -> None:
        st = self.status(task)
        prev = st.last_end.get(Outcome.MISSED)
        st.last_end[Outcome.MISSED] = at if prev is None else max(prev, at)


@dataclass
class _RefTask:
    spec: TaskSpec
    cond: Condition
    cond_since: float  # when this condition was given to the task (creation, change)
    disabled: bool = False
    forced: bool = False
    retry: tuple[float, int] | None = None  # (due, attempt)
    catch_up: bool = False


def periodic_parts(cond: Condition) -> tuple[Condition | None, list[Condition]]:
    """The calendar or cron node that decides when ``cond`` is due (the whole condition,
    or the only such item of a top-level ``&``) and the rest of the ``&``."""
    if isinstance(cond, Period | Cron):
        return cond, []
    if isinstance(cond, All):
        found = [c for c in cond.items if isinstance(c, Period | Cron)]
        if len(found) == 1:
            return found[0], [c for c in cond.items if c is not found[0]]
    return None, []


def _holds(cond: Condition, ctx: Context, cron_ctx: Context) -> bool:
    """``cond.evaluate(ctx)``, except that its ``cron`` nodes read ``cron_ctx``."""
    if isinstance(cond, All):
        return all(_holds(c, ctx, cron_ctx) for c in cond.items)
    if isinstance(cond, Any_):
        return any(_holds(c, ctx, cron_ctx) for c in cond.items)
    if isinstance(cond, Not):
        return not _holds(cond.item, ctx, cron_ctx)
    return cond.evaluate(cron_ctx if isinstance(cond, Cron) else ctx)


class RunawayCondition(Exception):
    """A generated condition started a task again and again at one instant."""


class Reference:
    """The naive scheduler (see the module docstring).

    Semantics chosen where the README is silent (documented in the report):
    a forced run starts even when the task is disabled (the README's "whatever its
    condition"); a retry is dropped by a later run that does not fail, by disabling the
    task, by removing it and by a restart; a pending catch-up runs when the rest of the
    task's ``&`` holds.
    """

    def __init__(self, tz: tzinfo, now: float, fail_next: set[str]) -> None:
        self.tz = tz
        self.now = now
        self.started_at = now
        self.tasks: dict[str, _RefTask] = {}
        self.status = _Statuses()
        self.starts: list[Start] = []
        self.fail_next = fail_next
        self.down_since: float | None = None

    # -- operations -------------------------------------------------------------------
    def add(self, spec: TaskSpec, settle: bool = True) -> None:
        self.tasks[spec.name] = _RefTask(spec, parse_condition(spec.cond), self.now)
        if settle:
            self.settle()

    def remove(self, name: str) -> None:
        del self.tasks[name]
        self.settle()

    def change(self, name: str, spec: TaskSpec) -> None:
        task = self.tasks[name]
        task.spec, task.cond, task.cond_since = spec, parse_condition(spec.cond), self.now
        task.catch_up = False  # owed for the slots of the condition it replaces
        self.settle()

    def force(self, name: str) -> None:
        self.tasks[name].forced = True
        self.settle()

    def set_disabled(self, name: str, value: bool) -> None:
        task = self.tasks[name]
        task.disabled = value
        if value:
            task.retry = None
            task.catch_up = False
        self.settle()

    def stop(self) -> None:
        """The scheduler stops (gracefully) at ``now``."""
        self.down_since = self.now
        for task in self.tasks.values():
            task.retry = None
            task.forced = False
            task.catch_up = False

    def start(self, now: float) -> None:
        """The scheduler starts again at ``now`` (after ``stop``), on the same history."""
        assert self.down_since is not None
        self.now = now
        for name, task in self.tasks.items():
            task.cond_since = min(task.cond_since, self.down_since)
            self._misfires(name, task, self.down_since, now)
        self.started_at = now
        self.down_since = None
        self.settle()

    def advance_to(self, until: float) -> None:
        """Every grid step up to ``until``, each one settled."""
        t = self.now
        while t < until:
            t = min(t + GRID, until)
            self.now = t
            self.settle()

    # -- misfires ---------------------------------------------------------------------
    def _misfires(self, name: str, task: _RefTask, down: float, now: float) -> None:
        """Slots of the task's calendar/cron node that passed while it was down: what the
        node alone would have started at each grid step of the downtime (had it been
        running), except a period slot still open now (simply due now)."""
        node, _ = periodic_parts(task.cond)
        status = self.status.status(name)
        if node is None or task.disabled or status.last_start is None:
            return
        shadow = _Statuses()
        st = shadow.status(name)
        st.last_start, st.last_end = status.last_start, dict(status.last_end)
        if isinstance(node, Cron):
            # A cron slot is one that fired while the scheduler was down; a period slot
            # may have begun before (it closed without a run while it was down).
            st.last_start = max(status.last_start, down)
        missed: list[float] = []
        t = down + GRID - (down % GRID)
        while t < now:
            ctx = self._ctx(name, t, shadow, self.started_at)
            if node.evaluate(ctx):
                missed.append(t)
                shadow.ran(name, t, Outcome.SUCCESS)
            t += GRID
        if missed and isinstance(node, Period):
            # The last slot still open now is not missed: it is due now.
            without = _Statuses()
            w = without.status(name)
            w.last_start, w.last_end = status.last_start, dict(status.last_end)
            for at in missed[:-1]:
                without.ran(name, at, Outcome.SUCCESS)
            if (node.evaluate(self._ctx(name, now, without, now))
                    != node.evaluate(self._ctx(name, now, shadow, now))):
                missed.pop()
        if not missed:
            return
        self.status.missed(name, missed[-1])
        policy = task.spec.misfire or "once"
        if policy == "once":
            task.catch_up = True

    # -- deciding ---------------------------------------------------------------------
    def _ctx(self, name: str, now: float, status: _Statuses | None = None,
             started: float | None = None) -> Context:
        return Context(now, self.tz, name, status or self.status,
                       self.started_at if started is None else started)

    def settle(self) -> None:
        """Passes over all tasks, highest priority first, until one starts nothing."""
        per_task: dict[str, int] = {}
        while True:
            started = False
            for task in sorted(self.tasks.values(), key=lambda t: -t.spec.priority):
                if self._consider(task):
                    started = True
                    n = per_task[task.spec.name] = per_task.get(task.spec.name, 0) + 1
                    if n > 20:
                        raise RunawayCondition(task.spec)
            if not started:
                return

    def _consider(self, task: _RefTask) -> bool:
        now, name = self.now, task.spec.name
        if task.forced:
            task.forced = False
            self._run(task, Trigger.FORCED, 1)
            return True
        if task.disabled:
            return False
        ctx = self._ctx(name, now)
        # Cron waits for the first fire time after the scheduler started or, for a
        # condition given later, after it was given (issue 17, item 7).
        cron_ctx = self._ctx(name, now, started=max(self.started_at, task.cond_since))
        if task.catch_up:
            _, rest = periodic_parts(task.cond)
            if all(_holds(c, ctx, cron_ctx) for c in rest):
                task.catch_up = False
                holds = _holds(task.cond, ctx, cron_ctx)
                self._run(task, Trigger.SCHEDULED if holds else Trigger.CATCH_UP, 1)
                return True
        if task.retry is not None and task.retry[0] <= now:
            attempt = task.retry[1]
            task.retry = None
            self._run(task, Trigger.RETRY, attempt)
            return True
        if _holds(task.cond, ctx, cron_ctx):
            self._run(task, Trigger.SCHEDULED, 1)
            return True
        return False

    def _run(self, task: _RefTask, trigger: Trigger, attempt: int) -> None:
        name, now = task.spec.name, self.now
        self.starts.append((now, name, str(trigger), attempt))
        fails = name in self.fail_next
        self.fail_next.discard(name)
        self.status.ran(name, now, Outcome.FAIL if fails else Outcome.SUCCESS)
        spec = task.spec
        if fails and attempt <= spec.retries:
            wait = spec.retry_delay * spec.backoff ** (attempt - 1)
            task.retry = (now + wait, attempt + 1)
        elif not fails:
            task.retry = None


def _job(name: str, fail_next: set[str]) -> Callable[[], None]:
    def job() -> None:
        if name in fail_next:
            fail_next.discard(name)
            raise RuntimeError(f"{name}: a planned failure")
    job.__name__ = name
    return job


class EngineWorld:
    """The real engine, driven on a fake clock from one of its wake-ups to the next."""

    def __init__(self, tz: tzinfo, now: float, fail_next: set[str],
                 history: Path | None = None) -> None:
        """``history``: a SQLite history file, reopened at each restart (else the history
        is a ``MemoryRunStore`` kept across restarts)."""
        self.tz = tz
        self.clock = FakeClock(now)
        self.fail_next = fail_next
        self.specs: dict[str, TaskSpec] = {}
        self._history = history
        self.store = self._open_store()
        self.starts: list[Start] = []
        self.runner: EngineRunner | None = None
        self._seen = 0

    def _open_store(self) -> RunStore:
        return MemoryRunStore() if self._history is None else SqliteRunStore(self._history)

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        session = Session()
        for spec in self.specs.values():
            self._create(session, spec)
        self.runner = EngineRunner(session, store=self.store, clock=self.clock, tz=self.tz)
        self._seen = 0
        self.runner.__enter__()
        self.settle()

    def stop(self) -> None:
        assert self.runner is not None
        self.settle()
        self.runner.stop()
        self._collect()
        self.runner = None

    def restart(self, downtime: float) -> None:
        self.stop()
        if self._history is not None:
            self.store.close()
            self.store = self._open_store()
        self.clock.advance(downtime)
        self.start()

    # -- operations -------------------------------------------------------------------
    @property
    def session(self) -> Session:
        assert self.runner is not None
        return self.runner.session

    def _create(self, session: Session, spec: TaskSpec) -> None:
        session.create_task(spec.cond, func=_job(spec.name, self.fail_next), name=spec.name,
                            execution="main", **spec.options())

    def add(self, spec: TaskSpec) -> None:
        self.specs[spec.name] = spec
        if self.runner is not None:
            self._create(self.session, spec)
            self.settle()

    def remove(self, name: str) -> None:
        del self.specs[name]
        self.session.remove_task(name)
        self.settle()

    def change(self, name: str, spec: TaskSpec) -> None:
        self.specs[name] = spec
        self.session[name].start_cond = spec.cond
        self.settle()

    def force(self, name: str) -> None:
        self.session[name].force_run = True
        self.settle()

    def set_disabled(self, name: str, value: bool) -> None:
        self.session[name].disabled = value
        self.settle()

    def advance_to(self, until: float, instants: Collection[float] = ()) -> None:
        """Move the clock as real time would: to each wake-up the engine set itself, in
        turn, then to ``until``.

        Also to each of ``instants`` (the reference's starts): a tick there evaluates
        only what the engine considers due or changed, so this hides no missing wake-up,
        and a wake-up the engine keeps where ``Engine.next_wake`` does not report it
        (a retry, say) is not jumped over.
        """
        assert self.runner is not None
        engine = self.runner.engine

        def wake_ups() -> list[float | None]:
            return [engine.next_wake(n) for n in self.specs]

        marks = sorted(t for t in instants if t <= until)
        for _ in range(100_000):
            now = self.clock.time()
            wake = [w for w in engine.call(wake_ups).result(10) if w is not None]
            due = min([*wake, *(t for t in marks if t > now)], default=None)
            if due is None or due > until:
                break
            if due <= now:
                # Due in the past yet not taken by a settled engine: it would spin.
                raise AssertionError(f"a wake-up at {due} stays due at {now}")
            self.clock.set(due)
            self.settle()
        if self.clock.time() < until:
            self.clock.set(until)
            self.settle()

    def settle(self) -> None:
        """Wait until the engine has evaluated the current time completely: full ticks
        until one passes without a new run."""
        assert self.runner is not None
        for _ in range(1000):
            before = len(self.runner.events)
            self.runner.sync()
            if len(self.runner.events) == before:
                break
        self._collect()

    def _collect(self) -> None:
        assert self.runner is not None
        events = self.runner.events
        for event in events[self._seen:]:
            if isinstance(event, RunStarted):
                run = event.run
                self.starts.append((run.start, run.task, str(run.trigger), run.attempt))
        self._seen = len(events)

    def close(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        self.store.close()
