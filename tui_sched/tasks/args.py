"""Argument markers: parameter defaults that the engine fills in at dispatch time.

>>> from tui_sched.args import Session
>>> def do_shutdown(session=Session()):
...     session.shutdown()

The engine inspects a task function's signature once, finds these markers and resolves
them for every run, explicitly, from the running session; nothing reads global state.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from tui_sched.errors import TuiSchedError
from tui_sched.frozen import value


class Marker:
    """Base of every argument marker."""

    __slots__ = ()

    #: Whether the value can only live in the scheduler's process.
    in_process_only = False


@value
class Session(Marker):
    """The running session (``main``, ``async`` and ``thread`` tasks only)."""

    in_process_only = True


@value
class Task(Marker):
    """This task, or the task named ``name`` (``main``, ``async``, ``thread`` only)."""

    name: str | None = None
    in_process_only = True


class NotATask(TuiSchedError, TypeError):
    """A task reference (``Return(helper)``) is a function that no task is made from."""


@value
class Return(Marker):
    """The return value of the last successful run of a task (else ``default``).

    >>> def do_second(arg=Return("do_first")): ...

    Attributes:
        name: The task's name, or the function the task is made from (Rocketry's
            ``Return(do_first)``). A function decorated with ``@app.task`` stands for
            its task's name at once; any other function is looked up among the
            session's tasks when a run needs the value.
        default: The value when the task has no successful run (yet).

    Raises:
        NotATask: ``name`` is neither a name nor a function.
    """

    name: str | Callable[..., Any]
    default: Any = None

    def __post_init__(self) -> None:
        if isinstance(self.name, str):
            return
        if not callable(self.name):
            raise NotATask(f"Return() takes a task name or a task function, not "
                           f"{self.name!r}")
        from tui_sched.tasks.task import TASK_NAME_ATTR  # the task model uses markers

        task = getattr(self.name, TASK_NAME_ATTR, None)
        if isinstance(task, str):
            object.__setattr__(self, "name", task)

    def source(self, tasks: Iterable[Any]) -> str:
        """The name of the task whose return value is meant, among ``tasks``.

        Raises:
            NotATask: ``name`` is a function that none of ``tasks`` is made from.
        """
        if isinstance(self.name, str):
            return self.name
        for task in tasks:
            if getattr(task.target, "func", None) is self.name:
                return str(task.name)
        func = getattr(self.name, "__name__", repr(self.name))
        raise NotATask(f"Return({func}): the function {func} is not a task in this "
                       f"session; make it one (@app.task above its def, or "
                       f"app.task(..., func={func})), or give a task's name: "
                       f"Return('name')")


_MISSING: Any = object()


@value
class Arg(Marker):
    """A session parameter set with ``app.params(key=value)``.

    A missing key fails the run unless ``default`` is given.
    """

    key: str
    default: Any = _MISSING

    @property
    def has_default(self) -> bool:
        """Whether a default was given."""
        return self.default is not _MISSING


@value
class EnvArg(Marker):
    """The environment variable ``var`` (``default`` if unset)."""

    var: str
    default: str | None = None

    def resolve(self) -> str | None:
        """Read the variable now."""
        return os.environ.get(self.var, self.default)


@value
class FuncArg(Marker):
    """The result of calling ``func()`` at run time."""

    func: Callable[[], Any]


@value
class TerminationFlag(Marker):
    """A ``threading.Event`` set when the run should stop (poll it in thread tasks)."""

    in_process_only = True
