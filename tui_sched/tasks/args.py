"""Argument markers: parameter defaults that the engine fills in at dispatch time.

>>> from tui_sched.args import Session
>>> def do_shutdown(session=Session()):
...     session.shutdown()

The engine inspects a task function's signature once, finds these markers and resolves
them for every run, explicitly, from the running session; nothing reads global state.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from tui_sched.errors import TuiSchedError
from tui_sched.frozen import value


class Marker:
    """Base of every argument marker."""

    __slots__ = ()

    #: Whether the value can only live in the scheduler's process.
    in_process_only = False

    def __rshift__(self, other: Marker) -> Pipe:
        """``EnvArg("ENV") >> Arg("env") >> SimpleArg("test")``: the first of them
        that has a value (Rocketry's argument pipelining)."""
        if not isinstance(other, Marker):
            raise TypeError(f"only arguments chain with >>, not {other!r}; wrap a plain "
                            f"value as SimpleArg({other!r})")
        left = self.markers if isinstance(self, Pipe) else (self,)
        right = other.markers if isinstance(other, Pipe) else (other,)
        return Pipe((*left, *right))


class ArgumentMissing(TuiSchedError, KeyError):
    """An argument has no value (a ``CliArg`` not given, no argument of a ``>>`` chain
    has one) and no default. A ``KeyError`` whose message reads as a sentence."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


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


def argument() -> Callable[[Callable[[], Any]], FuncArg]:
    """Rocketry's ``@argument()``: the decorated function becomes ``FuncArg(func)``, an
    argument to use as a parameter default (``def do_things(arg=my_value)``)."""
    def decorate(func: Callable[[], Any]) -> FuncArg:
        return FuncArg(func)
    return decorate


@value
class SimpleArg(Marker):
    """Just ``value`` (useful at the end of a ``>>`` chain, and in tests)."""

    value: Any


@value
class CliArg(Marker):
    """The value after ``param`` on the scheduler's command line
    (``CliArg("--env")`` with ``python app.py --env prod``; ``--env=prod`` too).

    A missing one fails the run unless ``default`` is given.
    """

    param: str
    default: Any = _MISSING

    def resolve(self, argv: list[str] | None = None) -> Any:
        """Read the command line now (``sys.argv`` unless ``argv`` is given).

        Raises:
            ArgumentMissing: Not given, no default.
        """
        args = sys.argv[1:] if argv is None else argv
        for i, arg in enumerate(args):
            if arg == self.param and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(self.param + "="):
                return arg[len(self.param) + 1:]
        if self.default is not _MISSING:
            return self.default
        raise ArgumentMissing(f"CliArg({self.param!r}): {self.param} is not on the command "
                              f"line; give it (... {self.param} VALUE) or give CliArg a default")


@value
class Pipe(Marker):
    """The first of ``markers`` that has a value (made with ``>>``).

    A marker has no value when it would fail for lack of one: an ``Arg`` whose
    parameter is not set, a ``CliArg`` not on the command line, an ``EnvArg`` whose
    variable is unset (and has no default).
    """

    markers: tuple[Marker, ...]

    @property
    def in_process_only(self) -> bool:  # type: ignore[override]
        return any(m.in_process_only for m in self.markers)


@value
class Config(Marker):
    """Rocketry's session configuration (``session.config``): its options by Rocketry's
    names (``main``, ``async``, ``thread`` tasks and ``@app.setup`` hooks only)."""

    in_process_only = True


@value
class TaskLogger(Marker):
    """Rocketry's task logger: this task's ``task.logger`` in a task; in an
    ``@app.setup`` hook, the session's (``main``, ``async``, ``thread`` only)."""

    in_process_only = True


@value
class TerminationFlag(Marker):
    """A ``threading.Event`` set when the run should stop (poll it in thread tasks)."""

    in_process_only = True
