"""Import one task module on a worker thread, with a deadline.

A module that hangs or sleeps at import time must not freeze whoever loads it (the engine
host's thread at start-up, the watcher thread on a reload). The import runs on a daemon
thread; after ``timeout`` seconds it is abandoned (the thread keeps running: Python cannot
kill a thread) and reported as a load error.

Before each import, modules that live inside the tasks folder (sibling helpers) are
dropped from ``sys.modules``, so the new version of a task module sees the current
version of its helpers, and the helpers the import pulls in are its dependencies: when
one of them changes, the module is reloaded too.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from types import ModuleType

from tui_sched.frozen import value
from tui_sched.tasks.modules import import_file

#: Task modules themselves are imported under these fresh names; never evict them (a
#: process worker or a lazy target may be resolving one right now).
_FRESH_PREFIX = "tui_sched_mod_"


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


def _local_file(module: ModuleType, prefix: str) -> str | None:
    file = getattr(module, "__file__", None)
    if isinstance(file, str):
        file = os.path.abspath(file)
        return file if file.startswith(prefix) else None
    for entry in getattr(module, "__path__", None) or ():  # namespace packages
        if isinstance(entry, str) and os.path.abspath(entry).startswith(prefix):
            return os.path.abspath(entry)
    return None


def _local_modules(prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        if name.startswith(_FRESH_PREFIX) or module is None:
            continue
        file = _local_file(module, prefix)
        if file is not None:
            out[name] = file
    return out


def import_guarded(path: Path, name: str, root: Path, timeout: float | None) -> Imported:
    """Import ``path`` as module ``name``; folder-local helpers are imported afresh.

    Args:
        path: The module file.
        name: A module name never used before.
        root: The tasks folder (modules under it count as helpers).
        timeout: Seconds to wait (``None``: import on the calling thread).

    Raises:
        ImportTimedOut: The import was abandoned.
        BaseException: Whatever the module raised (``SyntaxError``, ...).
    """
    prefix = str(root.resolve()) + os.sep
    for stale in _local_modules(prefix):
        sys.modules.pop(stale, None)
    module = import_file(path, name) if timeout is None else _import_on_thread(path, name, timeout)
    deps = frozenset(_local_modules(prefix).values())
    return Imported(module, deps)


def _import_on_thread(path: Path, name: str, timeout: float) -> ModuleType:
    outcome: list[ModuleType | BaseException] = []

    def work() -> None:
        try:
            outcome.append(import_file(path, name))
        except BaseException as exc:  # SystemExit at import is a load error too
            outcome.append(exc)

    thread = threading.Thread(target=work, name=f"tui-sched-import:{path.name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise ImportTimedOut(path, timeout)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result
