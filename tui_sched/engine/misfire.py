"""Misfires: periods and cron slots that passed while the scheduler was down.

Like systemd's ``Persistent=true``: a calendar or cron task that would have run while the
scheduler was down runs once when it comes back (``misfire="once"``, the default for
them), or the missed slots are only recorded (``misfire="skip"``, the default for
everything else). Every missed slot becomes a ``missed`` row in the history.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from tui_sched.conditions.base import All, Condition
from tui_sched.conditions.context import Context, TaskStatus
from tui_sched.conditions.cron import Cron, next_fire
from tui_sched.conditions.periods import PERIOD_OUTCOMES, Period
from tui_sched.engine.bus import EventBus
from tui_sched.engine.events import RunRecorded
from tui_sched.engine.status import StatusIndex
from tui_sched.frozen import value
from tui_sched.store.base import Outcome, RunRecord, RunStore, Trigger
from tui_sched.tasks.task import Task

#: More missed slots than this per task are summarised in the last row.
MAX_MISSED_ROWS = 100


def periodic_node(cond: Condition | None) -> Period | Cron | None:
    """The calendar or cron node that decides when ``cond`` is due, if it has exactly one
    (top level, or one item of a top-level ``&``)."""
    if isinstance(cond, Period | Cron):
        return cond
    if isinstance(cond, All):
        found = [c for c in cond.items if isinstance(c, Period | Cron)]
        if len(found) == 1:
            return found[0]
    return None


def default_policy(cond: Condition | None) -> str:
    """``once`` for calendar and cron conditions, ``skip`` otherwise."""
    return "once" if periodic_node(cond) is not None else "skip"


@value
class Slot:
    """A period or cron slot ``[start, end)`` (epoch seconds)."""

    start: float
    end: float


def _ran_in(status: TaskStatus, slot: Slot) -> bool:
    if status.last_start is not None and slot.start <= status.last_start < slot.end:
        return True
    return any(slot.start <= end < slot.end for _, end, outcome in status.recent
               if outcome in PERIOD_OUTCOMES)


def missed_slots(node: Period | Cron, since: float, until: float, tz: tzinfo,
                 grace: float, status: TaskStatus, limit: int = 10_000) -> list[Slot]:
    """Slots that began after ``since`` and can no longer be run on time at ``until``.

    A period window is missed when it closed before ``until`` without a run ending in it.
    A cron slot is missed when its fire time is more than ``grace`` before ``until``
    (a later fire is simply due now).
    """
    slots: list[Slot] = []
    if isinstance(node, Cron):
        fire = next_fire(node.expr, since, tz)
        while fire is not None and fire <= until - grace and len(slots) < limit:
            nxt = next_fire(node.expr, fire, tz)
            slot = Slot(fire, nxt if nxt is not None else until)
            if not _ran_in(status, slot):
                slots.append(slot)
            fire = nxt
        return slots
    window = node.window
    cur = window.current(since, tz)
    start = cur[0] if cur is not None else window.next_start(since, tz)
    while start is not None and len(slots) < limit:
        occ = window.current(start, tz)
        if occ is None or occ[1] > until:
            break
        slot = Slot(*occ)
        if not _ran_in(status, slot):
            slots.append(slot)
        start = window.next_start(occ[0], tz)
    return slots


def owes_catch_up(task: Task) -> bool:
    """Whether ``task``, which missed slots, owes one run to catch up (its policy is
    ``once``). The run waits for the rest of its condition: see ``rest_holds``."""
    policy = task.options.misfire or default_policy(task.start_cond)
    return policy == "once"


def rest_holds(task: Task, ctx: Context) -> bool:
    """Whether the rest of ``task``'s condition, besides its calendar or cron node, holds
    now: a catch-up run waits for it (``daily & env 'prod'`` does not catch up under env
    ``dev``: only the missed period is owed, not the rest)."""
    cond = task.start_cond
    if not isinstance(cond, All):
        return True
    node = periodic_node(cond)
    ctx.task = task.name
    try:
        return all(item.evaluate(ctx) for item in cond.items if item is not node)
    except Exception:  # the evaluation of the whole condition reports it
        return False


def record_missed(task: Task, slots: list[Slot], down_since: float, now: float, *,
                  store: RunStore, status: StatusIndex, bus: EventBus, tz: tzinfo) -> None:
    """Write a ``missed`` row per missed slot (the earliest ones summarised in the first
    row beyond ``MAX_MISSED_ROWS``) and publish each."""
    def stamp(at: float) -> str:
        return datetime.fromtimestamp(at, tz).strftime("%Y-%m-%d %H:%M")

    shown = slots[-MAX_MISSED_ROWS:]
    for i, slot in enumerate(shown):
        error = (f"missed: the slot {stamp(slot.start)} - {stamp(slot.end)} passed while "
                 f"the scheduler was down ({stamp(down_since)} - {stamp(now)})")
        if i == 0 and len(slots) > len(shown):
            error += f"; {len(slots) - len(shown)} earlier slot(s) were missed too"
        # Ended at its slot too: it never ran, and the end is what the history's latest
        # ``missed`` is read from at the next start (see ``status.recorded`` below).
        record = RunRecord(store.next_run_id(), task.name, Trigger.SCHEDULED,
                           slot.start, slot.start, Outcome.MISSED, error)
        store.start_run(record)
        bus.publish(RunRecorded(now, record))
    # At the last missed slot's fire time, so that a skipped cron slot counts as used up
    # (see Cron) but a slot that fires at the very instant the scheduler is back does not.
    status.recorded(task.name, slots[-1].start, Outcome.MISSED)


def detect(tasks: list[Task], down_since: float, ctx: Context, *, store: RunStore,
           status: StatusIndex, bus: EventBus) -> list[str]:
    """Record the slots each task missed between ``down_since`` and ``ctx.now`` (the
    scheduler was down); return the tasks that owe a catch-up run."""
    now, tz = ctx.now, ctx.tz
    owed: list[str] = []
    for task in tasks:
        node = periodic_node(task.start_cond)
        task_status = status.status(task.name)
        if node is None or task_status.last_start is None or task.disabled:
            continue  # a task that never ran has nothing to catch up (as systemd)
        since = max(down_since, task_status.last_start)
        slots = missed_slots(node, since, now, tz, task.options.misfire_grace, task_status)
        if not slots:
            continue
        record_missed(task, slots, down_since, now, store=store, status=status, bus=bus, tz=tz)
        if owes_catch_up(task):
            owed.append(task.name)
    return owed
