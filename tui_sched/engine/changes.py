"""Session changes: tasks added, removed, swapped, changed or disabled at run time.

Other threads (the UI, a metatask, a module reload) change the session at any time, but
the engine's state (wake-ups, pending retries, runs in progress, the dependents index)
belongs to the engine thread. So each change is queued as a closure and carried out on
the engine thread at its next tick, in order; this module holds the queue and what each
change does there. It is kept apart from the scheduling loop because none of it is on
the per-run path: it runs only when the session really changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping

from tui_sched.engine.active import ActiveRun
from tui_sched.engine.bus import EventBus
from tui_sched.engine.decision import TaskState, owes_slots_from_birth
from tui_sched.engine.dispatch import Dispatcher
from tui_sched.engine.events import TaskChanged
from tui_sched.engine.gcpolicy import GcPolicy
from tui_sched.engine.session import Session
from tui_sched.engine.wakeups import Wakeups
from tui_sched.store.base import RunStore, TaskInfo
from tui_sched.tasks.task import Task

Change = Callable[[float, set[str]], bool]
"""A change of the session, carried out on the engine thread at ``now``: adds the tasks
to decide again to the set; returns whether the stored task list and the dependents
index must be rebuilt."""


def dependents_of(tasks: Iterable[Task]) -> dict[str, set[str]]:
    """Task name -> the tasks whose start or end condition names it."""
    deps: dict[str, set[str]] = {}
    for task in tasks:
        for cond in (task.start_cond, task.options.end_cond):
            if cond is None:
                continue
            for ref in cond.task_refs():
                deps.setdefault(ref, set()).add(task.name)
    return deps


def task_infos(tasks: Iterable[Task]) -> list[TaskInfo]:
    """What the store keeps of each task (for the history's readers)."""
    return [
        TaskInfo(t.name, t.condition_text, t.execution if t.kind != "command" else "command",
                 t.disabled, t.origin)
        for t in tasks
    ]


class SessionChanges:
    """The queue of session changes and their engine-side halves (engine thread, except
    ``queue``).

    Args:
        lock: The engine's lock (guards the queue, as it guards the engine's other
            cross-thread state).
        session: The tasks.
        store: Where flags and the task list are persisted.
        bus: Where ``TaskChanged`` events go.
        states: The engine's per-task pending state (only tasks with something pending).
        state_of: A task's state, made if it has none.
        tidy: Drops a task's state that holds nothing any more.
        wakeups: The engine's wake-ups.
        dispatch: The engine's dispatcher (forgets a task's executor and arguments).
        running: The runs in progress.
        gc: Thawed when code is swapped out.
        reindex: Rebuilds the dependents index and the stored task list.
    """

    def __init__(self, lock: threading.Lock, session: Session, store: RunStore, bus: EventBus,
                 states: dict[str, TaskState], state_of: Callable[[str], TaskState],
                 tidy: Callable[[str, TaskState], None], wakeups: Wakeups,
                 dispatch: Dispatcher, running: Mapping[int, ActiveRun], gc: GcPolicy,
                 reindex: Callable[[], None]) -> None:
        self._lock = lock
        self._session = session
        self._store = store
        self._bus = bus
        self._states = states
        self._state_of = state_of
        self._tidy = tidy
        self._wakeups = wakeups
        self._dispatch = dispatch
        self._running = running
        self._gc = gc
        self._reindex = reindex
        self._changes: list[Change] = []

    def queue(self, change: Change) -> None:
        """Queue ``change`` for the engine thread (any thread; the caller wakes it)."""
        with self._lock:
            self._changes.append(change)

    def apply(self, now: float, dirty: set[str]) -> None:
        """Carry out the session changes other threads queued, in order, adding the tasks
        to decide again to ``dirty``. Called every tick, and when stopping, so that a
        metatask that disables tasks and then restarts the session loses nothing."""
        with self._lock:
            changes, self._changes = self._changes, []
        if not changes:
            return
        rebuild = False
        for change in changes:
            rebuild = change(now, dirty) or rebuild
        if rebuild:
            self._reindex()

    def on_disabled(self, task: Task, value: bool, now: float, dirty: set[str]) -> bool:
        """``task``'s ``disabled`` flag became ``value``."""
        self._store.set_flag(task.name, value)
        self._bus.publish(TaskChanged(now, task.name, "disabled" if value else "enabled"))
        state = self._states.get(task.name)
        if value and state is not None:
            state.disabled()
            self._tidy(task.name, state)
        dirty.add(task.name)
        return True

    def on_added(self, task: Task, now: float, dirty: set[str]) -> bool:
        """``task`` joined the session (``session.create_task``)."""
        if self._session._lookup(task.name) is not task:
            return False  # removed again, or replaced, meanwhile
        self._new_version(task, now)
        # The session's word when it creates a task is the last word: a flag persisted
        # for an earlier task of that name must not disable this one at the next start.
        if self._store.get_flags().get(task.name, False) != task.disabled:
            self._store.set_flag(task.name, task.disabled)
        self._bus.publish(TaskChanged(now, task.name, "added"))
        dirty.add(task.name)
        return True

    def on_changed(self, task: Task, what: str, now: float, dirty: set[str]) -> bool:
        """An option or the condition (``what``) of ``task`` was changed in place."""
        if self._session._lookup(task.name) is not task:
            return False
        dirty.add(task.name)
        if what == "start_cond":
            # What its wake-up, a jittered start and a catch-up were decided from is
            # gone; its cron slots start counting now.
            self._wakeups.discard(task.name)
            state = self._state_of(task.name)
            state.jitter = None
            state.catch_up = False
            state.born = now if owes_slots_from_birth(task.start_cond) else None
            self._tidy(task.name, state)
        self._bus.publish(TaskChanged(now, task.name, f"{what} changed"))
        return what in ("start_cond", "end_cond", "execution")

    def on_removed(self, task: Task, terminate: str | None) -> None:
        """``task`` left the session (its runs in progress are terminated with the
        reason ``terminate``, if given, else they finish)."""
        name = task.name
        if self._session._lookup(name) is None:  # (not already back under that name)
            self._wakeups.discard(name)
            self._states.pop(name, None)
            self._dispatch.forget(name)
        if terminate is not None:
            for active in self._running.values():
                if active.task is task:
                    active.job.terminate(terminate)

    def on_swapped(self, removed: list[Task], swapped_in: list[Task], terminate: bool,
                   now: float, dirty: set[str]) -> bool:
        """The engine-side half of ``Engine.tasks_swapped``."""
        for task in removed:
            self.on_removed(task, "its task was removed by a module reload" if terminate else None)
        persisted = self._store.get_flags()
        for task in swapped_in:
            if self._session._lookup(task.name) is not task:
                continue  # superseded by a later swap
            if task.name in persisted:
                # The operator's last word wins over the module's declaration.
                object.__setattr__(task, "_disabled", persisted[task.name])
            self._new_version(task, now)
            dirty.add(task.name)
        self._gc.thaw()  # the replaced code may hold cycles: let the next full pass see them
        return True

    def _new_version(self, task: Task, now: float) -> None:
        """``task`` is new, or a new version of a task: nothing decided for the one
        before holds for it (a pending retry, a jittered start, a crash back-off)."""
        self._wakeups.discard(task.name)
        self._dispatch.forget(task.name)
        self._states.pop(task.name, None)
        if owes_slots_from_birth(task.start_cond):
            self._state_of(task.name).born = now
