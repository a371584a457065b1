"""Argument markers: parameter defaults that the engine fills in at dispatch time.

>>> from tui_sched.args import Session
>>> def do_shutdown(session=Session()):
...     session.shutdown()

The engine inspects a task function's signature once, finds these markers and resolves
them for every run, explicitly, from the running session; nothing reads global state.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

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


@value
class Return(Marker):
    """The return value of the last successful run of task ``name`` (else ``default``)."""

    name: str
    default: Any = None


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
