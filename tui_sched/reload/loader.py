"""Load a folder of task modules into one session.

Each module is imported under a fresh, unique module name; the tasks of every ``App``
found in it join the session. A module that fails (syntax error, exception, bad option,
name clash) becomes a ``ModuleLoadError`` with file, line and traceback; the others load.
"""

from __future__ import annotations

import itertools
import os
import stat
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from tui_sched.app import App
from tui_sched.engine.session import Session
from tui_sched.errors import DuplicateTaskError, ModuleLoadError, TuiSchedError
from tui_sched.tasks.modules import fresh_module_name, import_file

_generation = itertools.count(1)


@dataclass
class LoadReport:
    """What loading a folder produced."""

    session: Session
    modules: list[str] = field(default_factory=list)
    errors: list[ModuleLoadError] = field(default_factory=list)
    apps: list[App] = field(default_factory=list)


def module_files(folder: Path) -> list[Path]:
    """Every ``*.py`` under ``folder``, skipping hidden entries and ``__pycache__``."""
    files: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        files.extend(Path(root) / n for n in sorted(names)
                     if n.endswith(".py") and not n.startswith((".", "#")))
    return files


def check_permissions(path: Path, root: Path) -> str | None:
    """Why loading ``path`` would be unsafe, or ``None`` (as sshd's StrictModes)."""
    try:
        if path.is_symlink() and root.resolve() not in path.resolve().parents:
            return f"{path} is a symlink that leaves {root}; refusing to load it"
        st = path.stat()
    except OSError as exc:
        return f"{path}: {exc}"
    if st.st_uid not in (os.getuid(), 0):
        return (f"{path} is owned by uid {st.st_uid}, not by you; task modules are code. "
                f"Fix: chown {os.getuid()} {path} (or pass --insecure-permissions)")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (f"{path} is writable by other users; task modules are code. "
                f"Fix: chmod go-w {path} (or pass --insecure-permissions)")
    return None


def _error_line(exc: BaseException, path: Path) -> int | None:
    if isinstance(exc, SyntaxError) and exc.lineno:
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    return line


def import_module(path: Path) -> ModuleType:
    """Import one task module under a name never used before.

    Raises:
        ModuleLoadError: With file, line and traceback.
    """
    name = fresh_module_name(path, f"load{next(_generation)}")
    try:
        return import_file(path, name)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        message = str(exc) if isinstance(exc, TuiSchedError) else f"{type(exc).__name__}: {exc}"
        raise ModuleLoadError(str(path), message, _error_line(exc, path),
                              "".join(traceback.format_exception(exc))) from None


def apps_in(module: ModuleType) -> list[App]:
    """Every ``App`` instance among the module's globals (each once)."""
    seen: dict[int, App] = {}
    for value in vars(module).values():
        if isinstance(value, App):
            seen.setdefault(id(value), value)
    return list(seen.values())


def add_module(path: Path, session: Session, report: LoadReport) -> None:
    """Import ``path`` and merge its tasks into ``session`` (all or nothing)."""
    try:
        module = import_module(path)
    except ModuleLoadError as err:
        report.errors.append(err)
        return
    apps = apps_in(module)
    added = []
    try:
        for app in apps:
            for task in app.session.tasks:
                session.add_task(task)
                added.append(task)
    except DuplicateTaskError as exc:
        for task in added:
            session.remove_task(task)
        report.errors.append(ModuleLoadError(str(path), str(exc)))
        return
    for app in apps:
        for syntax, func in app.session.custom_conditions.items():
            session.register_condition(syntax, func)
        session.params(**app.session.parameters)
        app._adopt(session)
    report.apps.extend(apps)
    report.modules.append(str(path))


def load_folder(folder: str | os.PathLike[str], *, insecure: bool = False) -> LoadReport:
    """Load every task module under ``folder`` into a new session.

    Args:
        folder: The tasks folder.
        insecure: Load modules even when other users can write them.
    """
    root = Path(folder)
    session = Session()
    report = LoadReport(session)
    if not root.is_dir():
        report.errors.append(ModuleLoadError(str(root), "the tasks folder does not exist"))
        return report
    if not insecure and (problem := check_permissions(root, root)):
        report.errors.append(ModuleLoadError(str(root), problem))
        return report
    for path in module_files(root):
        if not insecure and (problem := check_permissions(path, root)):
            report.errors.append(ModuleLoadError(str(path), problem))
            continue
        add_module(path, session, report)
    for unknown in session.check_references():
        origin = session[unknown.task].origin or str(root)
        report.errors.append(ModuleLoadError(origin, str(unknown)))
    return report
