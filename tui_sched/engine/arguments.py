"""Resolve argument markers for a run, explicitly, from the running session."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from tui_sched.engine.session import Session
from tui_sched.tasks import args as a
from tui_sched.tasks.signature import markers_of
from tui_sched.tasks.targets import FuncTarget
from tui_sched.tasks.task import Task


class MissingParameter(KeyError):
    """An ``Arg("key")`` names a session parameter that is not set (and has no default).

    A ``KeyError`` whose message reads as a sentence (``KeyError`` quotes its text).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ArgumentResolver:
    """Turns a task's parameters and marker defaults into keyword arguments."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._plain: dict[str, tuple[object, object, dict[str, Any] | None]] = {}

    def resolve(self, value: Any, task: Task, flag: Callable[[], threading.Event]) -> Any:
        """The value a marker stands for (other values pass through)."""
        if not isinstance(value, a.Marker):
            return value
        if isinstance(value, a.Session):
            return self.session
        if isinstance(value, a.Task):
            return task if value.name is None else self.session[value.name]
        if isinstance(value, a.Return):
            return self.session.returns.get(value.source(self.session.tasks), value.default)
        if isinstance(value, a.Arg):
            params = self.session.parameters
            if value.key in params:
                # A session parameter may itself be an argument (Rocketry's
                # app.params(x=SimpleArg(...)), @app.param functions).
                return self.resolve(params[value.key], task, flag)
            if value.has_default:
                return value.default
            raise MissingParameter(f"Arg({value.key!r}): session parameter {value.key!r} is not "
                                   f"set (set it with app.params({value.key}=...) or give "
                                   "Arg a default)")
        if isinstance(value, a.EnvArg):
            return value.resolve()
        if isinstance(value, a.FuncArg):
            return value.func()
        if isinstance(value, a.TerminationFlag):
            event = flag()
            # A permanent task (Rocketry's observer) is told to stop first at shutdown.
            self.session.rocketry_link().note_flag(task.name, event)
            return event
        if isinstance(value, a.Config):
            return self.session.config
        if isinstance(value, a.TaskLogger):
            return task.logger
        if isinstance(value, a.SimpleArg):
            return value.value
        if isinstance(value, a.CliArg):
            return value.resolve()
        if isinstance(value, a.Pipe):
            return self._first_available(value, task, flag)
        raise TypeError(f"unknown argument marker {value!r}")

    def _first_available(self, pipe: a.Pipe, task: Task,
                         flag: Callable[[], threading.Event]) -> Any:
        """The value of the first marker of ``pipe`` that has one (Rocketry's ``>>``)."""
        for marker in pipe.markers:
            if isinstance(marker, a.EnvArg) and marker.default is None \
                    and marker.var not in os.environ:
                continue  # unset, no default: not available
            try:
                return self.resolve(marker, task, flag)
            except (MissingParameter, a.ArgumentMissing):
                continue
        raise a.ArgumentMissing(f"none of {' >> '.join(map(repr, pipe.markers))} has a "
                                "value; end the chain with SimpleArg(default)")

    def plain_kwargs(self, task: Task) -> dict[str, Any] | None:
        """The keyword arguments of a run of ``task`` when nothing in them needs resolving
        (no marker among its parameters or in its function's signature): the same for
        every run, so worked out once per version of the task. ``None`` if some do."""
        if self.session.rocketry_link().has_batch(task.name):
            return None  # this run's parameters are a batch (binder takes it)
        options, target = task.options, task.target
        cached = self._plain.get(task.name)
        if cached is not None and cached[0] is options and cached[1] is target:
            return cached[2]
        params = options.parameters
        kwargs: dict[str, Any] | None = None
        if (isinstance(target, FuncTarget) and not markers_of(target.func)
                and not any(isinstance(v, a.Marker) for v in params.values())):
            kwargs = dict(params)
        self._plain[task.name] = (options, target, kwargs)
        return kwargs

    def binder(self, task: Task, flag: Callable[[], threading.Event]
               ) -> Callable[[Callable[..., Any]], dict[str, Any]]:
        """A function that builds the kwargs for the resolved callable, at call time."""

        batch = self._take_batch(task)

        def bind(func: Callable[..., Any]) -> dict[str, Any]:
            params = task.options.parameters if batch is None else {**task.options.parameters,
                                                                     **batch}
            kwargs = {k: self.resolve(v, task, flag) for k, v in params.items()}
            for name, marker in markers_of(func):
                if name not in kwargs:
                    kwargs[name] = self.resolve(marker, task, flag)
            return kwargs

        return bind

    def process_kwargs(self, task: Task) -> dict[str, Any]:
        """Kwargs resolved here, sent to a worker process (they must pickle)."""
        event = threading.Event()

        def flag() -> threading.Event:
            return event

        batch = self._take_batch(task)
        params = task.options.parameters if batch is None else {**task.options.parameters,
                                                                 **batch}
        kwargs = {k: self.resolve(v, task, flag) for k, v in params.items()}
        if isinstance(task.target, FuncTarget):
            for name, marker in markers_of(task.target.func):
                if name not in kwargs:
                    kwargs[name] = self.resolve(marker, task, flag)
        return kwargs

    def _take_batch(self, task: Task) -> dict[str, Any] | None:
        """The parameters ``task.run(**params)`` queued for this run (Rocketry's batch),
        called once per run as it is dispatched. More waiting: the task runs again."""
        batch, more = self.session.rocketry_link().take_batch(task.name)
        if more:
            task.force_run = True
        return batch
