"""Import one task module on a worker thread, with a deadline.

A module that hangs or sleeps at import time must not freeze whoever loads it (the engine
host's thread at start-up, the watcher thread on a reload). The import runs on a daemon
thread; after ``timeout`` seconds it is abandoned (the thread keeps running: Python cannot
kill a thread) and reported as a load error. (Before any of this, ``vetting`` has
imported the module in a throw-away process: one that hangs, exits or crashes there
never gets here.)

Before each import, modules that live inside the tasks folder (sibling helpers) are
dropped from ``sys.modules``, so the new version of a task module sees the current
version of its helpers, and the helpers the import pulls in are its dependencies: when
one of them changes, the module is reloaded too.

``describe`` turns whatever an import raised into the parts of a load error; the vetting
process uses it too, so an error reads the same wherever it was caught.
"""

from __future__ import annotations

import threading
import traceback
from pathlib import Path
from types import ModuleType

from tui_sched.errors import TuiSchedError
from tui_sched.frozen import value
from tui_sched.tasks.modules import Source, drop_folder_modules, folder_modules, import_source
from tui_sched.tasks.trust import TaskCodeRefused


class ImportTimedOut(Exception):
    """The import did not finish in time and was abandoned."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(
            f"importing {path.name} did not finish within {timeout:g} s (it hangs or sleeps "
            "at import time); it was abandoned, and its last good version, if any, keeps "
            "running. Move slow work from module level into a task.")


@value
class Imported:
    """A freshly imported task module."""

    module: ModuleType
    deps: frozenset[str]
    """Absolute paths of the folder's own modules that the import pulled in."""


@value
class Failure:
    """Why an import failed, as a load error shows it."""

    message: str
    line: int | None
    traceback: str
    kind: str
    """``syntax``, ``import`` (a missing module), ``permission`` (a helper refused),
    ``timeout``, ``exit`` (the import tried to end the interpreter) or ``error``."""


def import_guarded(source: Source, name: str, root: Path, timeout: float | None) -> Imported:
    """Import ``source`` as module ``name``; folder-local helpers are imported afresh.

    Args:
        source: The module file and its accepted bytes.
        name: A module name never used before.
        root: The tasks folder (modules under it count as helpers).
        timeout: Seconds to wait (``None``: import on the calling thread).

    Raises:
        ImportTimedOut: The import was abandoned.
        BaseException: Whatever the module raised (``SyntaxError``, ``SystemExit``, ...).
    """
    folder = str(root.resolve())
    drop_folder_modules(folder)
    module = import_source(source, name) if timeout is None \
        else _import_on_thread(source, name, timeout)
    return Imported(module, frozenset(folder_modules(folder).values()))


def _import_on_thread(source: Source, name: str, timeout: float) -> ModuleType:
    outcome: list[ModuleType | BaseException] = []

    def work() -> None:
        try:
            outcome.append(import_source(source, name))
        except BaseException as exc:  # SystemExit at import is a load error too
            outcome.append(exc)

    path = Path(source.path)
    thread = threading.Thread(target=work, name=f"tui-sched-import:{path.name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise ImportTimedOut(path, timeout)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _error_line(exc: BaseException, path: Path) -> int | None:
    if isinstance(exc, SyntaxError) and exc.lineno:
        return exc.lineno
    line = None
    real = path.resolve()
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == real:
            line = frame.lineno
    return line


def _kind(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return "syntax"
    if isinstance(exc, ImportTimedOut):
        return "timeout"
    if isinstance(exc, TaskCodeRefused):
        return "permission"
    if isinstance(exc, ImportError):
        return "import"
    if not isinstance(exc, Exception):
        return "exit"
    return "error"


def describe(exc: BaseException, path: Path) -> Failure:
    """The load error for ``exc``, raised while importing ``path``."""
    if isinstance(exc, TuiSchedError | ImportTimedOut | TaskCodeRefused):
        message = str(exc)
    else:
        message = f"{type(exc).__name__}: {exc}"
    if not isinstance(exc, Exception):  # SystemExit, KeyboardInterrupt, GeneratorExit
        message = (f"{type(exc).__name__}({_arg(exc)}) raised while importing {path.name}: "
                   "a task module must not exit or interrupt the interpreter at import "
                   "(move that code into a task); the module was not loaded")
    tb = "" if isinstance(exc, ImportTimedOut) else "".join(traceback.format_exception(exc))
    return Failure(message, _error_line(exc, path), tb, _kind(exc))


def _arg(exc: BaseException) -> str:
    code = exc.code if isinstance(exc, SystemExit) else (exc.args[0] if exc.args else None)
    return "" if code is None else repr(code)
