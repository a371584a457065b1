"""Rocketry's ``@app.setup()`` hooks: functions run each time the scheduler starts,
before any task runs, with argument markers filled in (``Config()``,
``TaskLogger()``, ``Session()``, ``EnvArg(...)``, ...). A generator hook runs up to its
``yield`` before the scheduler's start-up and the rest once the scheduler has started.

A hook that raises is reported as an engine error (shown in the UI and in
``tui-sched run``'s output) and the scheduler carries on.
"""

from __future__ import annotations

import inspect
import threading
import traceback
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from tui_sched.engine import events as ev
from tui_sched.tasks import args as a
from tui_sched.tasks.signature import markers_of

if TYPE_CHECKING:
    from tui_sched.engine.session import Session
    from tui_sched.rocketry.link import RocketryLink


def hook_kwargs(hook: Callable[..., Any], session: Session, link: RocketryLink) -> dict[str, Any]:
    """The keyword arguments of ``hook``: its argument markers' values.

    Raises:
        TypeError: A marker that means nothing outside a task (``Task()``, ``Return``).
    """
    from tui_sched.engine.arguments import ArgumentResolver
    from tui_sched.rocketry.tasklog import TaskLogger

    resolver = ArgumentResolver(session)
    kwargs: dict[str, Any] = {}
    for name, marker in markers_of(hook):
        if isinstance(marker, a.Config):
            kwargs[name] = link.config
        elif isinstance(marker, a.TaskLogger):
            kwargs[name] = TaskLogger(None, link)
        elif isinstance(marker, a.Task | a.Return | a.TerminationFlag):
            raise TypeError(f"setup hook {hook.__name__}: {name}={marker!r} has no value "
                            "outside a task")
        else:
            kwargs[name] = resolver.resolve(marker, None, threading.Event)  # type: ignore[arg-type]
    return kwargs


class SetupRun:
    """The hooks of one scheduler start: run the first part now, the rest once started."""

    def __init__(self, hooks: list[Callable[..., Any]], session: Session, link: RocketryLink,
                 engine: Any) -> None:
        self._engine = engine
        self._pending: list[tuple[Callable[..., Any], Generator[Any, Any, Any]]] = []
        for hook in hooks:
            try:
                result = hook(**hook_kwargs(hook, session, link))
                if inspect.isgenerator(result):
                    next(result, None)
                    self._pending.append((hook, result))
            except Exception as exc:
                self._report(hook, exc)

    def __call__(self, event: ev.Event) -> None:
        """Bus subscriber: once the scheduler has started, finish the generator hooks."""
        if not isinstance(event, ev.SchedulerStarted):
            return
        pending, self._pending = self._pending, []
        for hook, gen in pending:
            try:
                next(gen, None)
            except Exception as exc:
                self._report(hook, exc)
            finally:
                gen.close()

    def close(self) -> None:
        """The scheduler stopped: close generators that never got to resume."""
        for _, gen in self._pending:
            gen.close()
        self._pending = []

    def _report(self, hook: Callable[..., Any], exc: Exception) -> None:
        bus = getattr(self._engine, "bus", None)
        name = getattr(hook, "__name__", repr(hook))
        message = f"setup hook {name} failed: {type(exc).__name__}: {exc}"
        if bus is None:
            raise exc
        bus.publish(ev.EngineError(self._engine.clock.time(), message,
                                   "".join(traceback.format_exception(exc))))
