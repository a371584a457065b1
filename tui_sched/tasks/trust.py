"""Which files may run as task code (as sshd's StrictModes and cron decide).

One check for every import of task code, in every process: the loader's task modules,
the helpers they import, lazy ``path=`` targets, and whatever a ``process`` worker
imports. A file is refused when it (or a folder between it and the tasks folder, or the
tasks folder itself) is writable by group or others, or owned by someone other than you
or root, or when its real location leaves the tasks folder.

The tasks folders of this process are *registered* (``register``); the registry is also
exported in the environment so that the process workers the scheduler starts apply the
same policy (``from_environment``).
"""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

#: Where the registry travels to the process workers (JSON: folder -> insecure flag).
TASK_ROOTS_ENV = "TUI_SCHED_TASK_ROOTS"


class TaskCodeRefused(ImportError):
    """A file of task code failed the permission check (its message says how to fix it)."""


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _problem(st: os.stat_result, path: Path) -> str | None:
    if st.st_uid not in (os.getuid(), 0):
        return (f"{path} is owned by uid {st.st_uid}, not by you; task modules are code. "
                f"Fix: chown {os.getuid()} {path} (or pass --insecure-permissions)")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (f"{path} is writable by other users; task modules are code. "
                f"Fix: chmod go-w {path} (or pass --insecure-permissions)")
    return None


def check_permissions(path: Path, root: Path) -> str | None:
    """Why loading ``path`` would be unsafe, or ``None``.

    Refused: a file or folder writable by group or others, or owned by someone other than
    you or root; a path whose real location (symlinks resolved) leaves ``root``.
    """
    try:
        if not _within(path.resolve(), root.resolve()):
            return f"{path} is a symlink that leaves {root}; refusing to load it"
        st = path.stat()
    except OSError as exc:
        return f"{path}: {exc}"
    return _problem(st, path)


def check_tree(path: Path, root: Path) -> str | None:
    """``check_permissions`` for ``path`` and every folder between it and ``root``
    (a folder others can write lets them replace the file)."""
    if _within(path, root):
        current = root
        for part in path.relative_to(root).parts[:-1]:
            current = current / part
            if problem := check_permissions(current, root):
                return problem
    return check_permissions(path, root)


def read_checked(path: Path, root: Path, *, insecure: bool = False) -> bytes:
    """The bytes of ``path``, read only if it passes the check against ``root``.

    The file itself is checked on the descriptor the bytes are read from, so a file
    swapped in between the check and the read is not run unchecked.

    Raises:
        TaskCodeRefused: The check failed (the message says how to fix it).
        OSError: The file cannot be read.
    """
    if not insecure:
        problem = check_permissions(root, root) or check_tree(path, root)
        if problem:
            raise TaskCodeRefused(problem, path=str(path))
    with open(path, "rb") as file:
        if not insecure and (problem := _problem(os.fstat(file.fileno()), path)):
            raise TaskCodeRefused(problem, path=str(path))
        return file.read()


# == the registry of tasks folders (per process) ==========================================
_lock = threading.Lock()
_roots: dict[Path, bool] = {}
"""Resolved tasks folder -> whether ``--insecure-permissions`` was given for it."""


def register(root: Path, insecure: bool) -> None:
    """Declare ``root`` a tasks folder of this process (and of the workers it starts)."""
    with _lock:
        _roots[root.resolve()] = insecure
        # Inherited by the workers this process starts from now on.
        os.environ[TASK_ROOTS_ENV] = json.dumps({str(r): i for r, i in _roots.items()})


def from_environment() -> None:
    """Adopt the tasks folders of the scheduler that started this process."""
    try:
        roots = json.loads(os.environ.get(TASK_ROOTS_ENV, "{}"))
    except ValueError:
        return
    if isinstance(roots, dict):
        adopt(roots)


def registered() -> dict[str, bool]:
    """The registered tasks folders and their ``insecure`` flags."""
    with _lock:
        return {str(r): i for r, i in _roots.items()}


def adopt(roots: dict[str, bool]) -> None:
    """Adopt the tasks folders of the scheduler that started this process."""
    with _lock:
        for root, insecure in roots.items():
            _roots.setdefault(Path(root), bool(insecure))


def has_roots() -> bool:
    """Whether any tasks folder is registered (nothing to guard otherwise)."""
    return bool(_roots)


def root_of(path: str | Path) -> tuple[Path, bool] | None:
    """The registered tasks folder that holds ``path`` (as written, not resolved: a
    symlink inside the folder is judged by the folder), and its ``insecure`` flag."""
    p = Path(os.path.abspath(path))
    for root, insecure in list(_roots.items()):
        if _within(p, root):
            return root, insecure
    return None


def read_task_code(path: Path, *, outside: bool) -> bytes:
    """Read a file of task code, checked against the tasks folder that holds it.

    Args:
        path: The file.
        outside: What to do with a file in no registered tasks folder: ``True`` checks it
            against its own folder (a lazy ``path=`` target is task code wherever it
            is); ``False`` reads it unchecked (library code a task function came from).
    """
    found = root_of(path)
    if found is not None:
        return read_checked(Path(os.path.abspath(path)), found[0], insecure=found[1])
    if not outside:
        return Path(path).read_bytes()
    insecure = bool(_roots) and all(_roots.values())
    real = Path(path).resolve()
    return read_checked(real, real.parent, insecure=insecure)
