"""Rocketry's task kinds: ``on_startup=True``, ``on_shutdown=True``, ``permanent=True``.

* A startup task runs once each time the scheduler starts, first (it is forced at
  start with the highest priority; an ``execution="main"`` one holds the first tick).
* A permanent task (an observer) is started with the scheduler (after the startup
  tasks). When the scheduler shuts down its ``TerminationFlag`` is set at once (a
  thread task that watches it stops then); otherwise it is terminated like any run
  still going, once ``shutdown_timeout`` has passed.
* A shutdown task runs when the scheduler shuts down, on the scheduler's thread, after
  it stops starting runs; it is logged, not recorded as a run (the history is closing).

They take no start condition: when they run is what the kind says.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from tui_sched.engine import events as ev
from tui_sched.errors import TaskDefinitionError

if TYPE_CHECKING:
    from tui_sched.engine.session import Session
    from tui_sched.tasks.task import Task

KINDS = ("on_startup", "on_shutdown", "permanent")
#: The priority a startup task gets unless it gives one: before any other.
STARTUP_PRIORITY = 1_000_000


def take_kind(start_cond: Any, kwargs: dict[str, Any]) -> str | None:
    """Remove Rocketry's kind flags (and ``func_run_id``) from ``app.task`` keyword
    arguments; return the kind asked for, setting the defaults it implies.

    Raises:
        TaskDefinitionError: Two kinds, a kind with a start condition, or
            ``func_run_id``, saying what to do.
    """
    name = kwargs.get("name")
    if kwargs.pop("func_run_id", None) is not None:
        raise TaskDefinitionError(name, "runs are identified by their id in the history "
                                  "(func_run_id is Rocketry's); remove it", "func_run_id")
    asked = [k for k in KINDS if kwargs.pop(k, False)]
    if not asked:
        return None
    if len(asked) > 1:
        raise TaskDefinitionError(name, f"a task is one of {', '.join(KINDS)}, not "
                                  f"{' and '.join(asked)}", asked[1])
    kind = asked[0]
    if start_cond is not None:
        raise TaskDefinitionError(name, f"a {kind} task runs when the scheduler "
                                  f"{'stops' if kind == 'on_shutdown' else 'starts'}; "
                                  "it takes no start condition", "start_cond")
    if kind == "on_startup":
        kwargs.setdefault("priority", STARTUP_PRIORITY)
    if kind == "permanent":
        kwargs.setdefault("priority", STARTUP_PRIORITY - 1)
    return kind


class KindRunner:
    """Starts startup and permanent tasks and runs shutdown tasks (a bus subscriber of
    one scheduler start)."""

    def __init__(self, session: Session, kinds: dict[str, str], engine: Any) -> None:
        self._session = session
        self._kinds = kinds
        self._engine = engine
        for name, kind in list(kinds.items()):
            task = session.get(name)
            if task is not None and kind in ("on_startup", "permanent"):
                task.force_run = True

    def __call__(self, event: ev.Event) -> None:
        if not isinstance(event, ev.SchedulerStopping):
            return
        self._session.rocketry_link().stop_permanent()
        for name, kind in list(self._kinds.items()):
            task = self._session.get(name)
            if kind == "on_shutdown" and task is not None:
                self._run_now(task)

    def _run_now(self, task: Task) -> None:
        from tui_sched.engine.arguments import ArgumentResolver

        log = logging.getLogger("tui_sched.rocketry")
        func = task.func
        if func is None:
            log.error("shutdown task %s is not a function task; it was not run", task.name)
            return
        try:
            bind = ArgumentResolver(self._session).binder(task, threading.Event)
            result = func(**bind(func))
            if hasattr(result, "__await__"):
                result.close()  # a coroutine cannot run on a loop that is stopping
                log.error("shutdown task %s is async; give it a plain def", task.name)
                return
            log.info("shutdown task %s ran", task.name)
        except Exception:
            log.exception("shutdown task %s failed", task.name)
