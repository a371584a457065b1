"""Load task modules: one file at a time (``load_module``) or a whole folder into one
session (``load_folder``, used at start-up, on restart and by ``tui-sched check``).

Each module is imported under a fresh, unique module name, on a worker thread with a
deadline; the tasks of every ``App`` found in it are collected. A module that fails
(syntax error, exception, bad option, hang, unsafe permissions, name clash) becomes a
``ModuleLoadError`` with file, line and traceback; the others load.
"""

from __future__ import annotations

import hashlib
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
from tui_sched.frozen import value
from tui_sched.reload.importer import ImportTimedOut, import_guarded
from tui_sched.reload.settings import DEFAULT_IMPORT_TIMEOUT
from tui_sched.tasks.modules import fresh_module_name
from tui_sched.tasks.task import Task

_generation = itertools.count(1)


class LoadFailure(ModuleLoadError):
    """A ``ModuleLoadError`` that also says what kind of failure it was, so the reloader
    knows when retrying may help: ``permission``, ``syntax``, ``import`` (a missing
    module), ``timeout``, ``clash`` or ``error``."""

    def __init__(self, path: str, message: str, line: int | None = None, traceback: str = "",
                 kind: str = "error") -> None:
        super().__init__(path, message, line, traceback)
        self.kind = kind


@value
class LoadedModule:
    """One successfully imported task module (its tasks are not in any session yet)."""

    path: Path
    tasks: tuple[Task, ...]
    apps: tuple[App, ...]
    stamp: tuple[int, int, int]
    """``file_stamp`` of the file when it was read."""
    digest: str
    """SHA-1 of the bytes that were imported."""
    deps: frozenset[str]
    """The folder's own modules the import pulled in (absolute paths)."""
    module_name: str
    """Its (fresh, unique) name in ``sys.modules``."""


@dataclass
class LoadReport:
    """What loading a folder produced."""

    session: Session
    modules: list[str] = field(default_factory=list)
    errors: list[ModuleLoadError] = field(default_factory=list)
    apps: list[App] = field(default_factory=list)
    loaded: list[LoadedModule] = field(default_factory=list)
    """The modules that joined the session."""
    reference_errors: list[ModuleLoadError] = field(default_factory=list)
    """The subset of ``errors`` about conditions naming unknown tasks (the tasks load)."""


def is_module_name(name: str) -> bool:
    """Whether a file name is a task module (not hidden, not an editor's temp file)."""
    return name.endswith(".py") and not name.startswith((".", "#", "~"))


def is_skipped_dir(name: str) -> bool:
    """Whether a folder is never searched (hidden, ``__pycache__`` and the like)."""
    return name.startswith((".", "__"))


def module_files(folder: Path) -> list[Path]:
    """Every ``*.py`` under ``folder``, skipping hidden entries and ``__pycache__``."""
    files: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not is_skipped_dir(d))
        files.extend(Path(root) / n for n in sorted(names) if is_module_name(n))
    return files


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """``(mtime, ctime, size)``: changes on a save, a ``touch`` and a ``chmod``."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size)


def file_digest(path: Path) -> str | None:
    """SHA-1 of the file's bytes (``None``: unreadable)."""
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def check_permissions(path: Path, root: Path) -> str | None:
    """Why loading ``path`` would be unsafe, or ``None`` (as sshd's StrictModes).

    Refused: a file or folder writable by group or others, or owned by someone other than
    you or root; a path whose real location (symlinks resolved) leaves ``root``.
    """
    try:
        real_root = root.resolve()
        if not _within(path.resolve(), real_root):
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


def check_tree(path: Path, root: Path) -> str | None:
    """``check_permissions`` for ``path`` and every folder between it and ``root``
    (a folder others can write lets them replace the file)."""
    rel = path.relative_to(root) if _within(path, root) else None
    if rel is not None:
        current = root
        for part in rel.parts[:-1]:
            current = current / part
            if problem := check_permissions(current, root):
                return problem
    return check_permissions(path, root)


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
    if isinstance(exc, ImportError):
        return "import"
    return "error"


def _import(path: Path, root: Path, timeout: float | None) -> tuple[ModuleType, frozenset[str]]:
    name = fresh_module_name(path, f"load{next(_generation)}")
    try:
        imported = import_guarded(path, name, root, timeout)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        message = str(exc) if isinstance(exc, TuiSchedError | ImportTimedOut) \
            else f"{type(exc).__name__}: {exc}"
        tb = "" if isinstance(exc, ImportTimedOut) else "".join(traceback.format_exception(exc))
        raise LoadFailure(str(path), message, _error_line(exc, path), tb, _kind(exc)) from None
    return imported.module, imported.deps


def import_module(path: Path) -> ModuleType:
    """Import one task module under a name never used before (on this thread).

    Raises:
        ModuleLoadError: With file, line and traceback.
    """
    return _import(path, path.parent, None)[0]


def apps_in(module: ModuleType) -> list[App]:
    """Every ``App`` instance among the module's globals (each once)."""
    seen: dict[int, App] = {}
    for item in vars(module).values():
        if isinstance(item, App):
            seen.setdefault(id(item), item)
    return list(seen.values())


def load_module(path: Path, root: Path, *, insecure: bool = False,
                import_timeout: float | None = DEFAULT_IMPORT_TIMEOUT) -> LoadedModule:
    """Check, read and import one task module and collect its tasks.

    The tasks are not added to any session; each task's ``origin`` is set to the
    module's resolved path (the file that contributed it, even when a helper declared it).

    Raises:
        LoadFailure: With file, line, traceback and the kind of failure.
    """
    if not insecure and (problem := check_tree(path, root)):
        raise LoadFailure(str(path), problem, kind="permission")
    stamp = file_stamp(path)
    reason = "it disappeared"
    try:
        digest = hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError as exc:
        stamp = None
        reason = str(exc)
    if stamp is None:  # deleted between the event and now: a later batch drops it
        raise LoadFailure(str(path), f"cannot read it ({reason})", kind="import")
    module, deps = _import(path, root, import_timeout)
    apps = apps_in(module)
    origin = str(path.resolve())
    tasks: dict[str, Task] = {}
    for app in apps:
        for task in app.session.tasks:
            if tasks.setdefault(task.name, task) is not task:
                raise LoadFailure(str(path), str(DuplicateTaskError(task.name, origin)), kind="clash")
            if task.origin != origin:
                object.__setattr__(task, "origin", origin)
    return LoadedModule(path, tuple(tasks.values()), tuple(apps), stamp, digest,
                        deps - {origin, str(path.absolute())}, module.__name__)


def adopt(loaded: LoadedModule, session: Session) -> None:
    """Point the module's apps at ``session`` and merge its custom conditions and
    parameters (after its tasks joined the session)."""
    for app in loaded.apps:
        for syntax, func in app.session.custom_conditions.items():
            session.register_condition(syntax, func)
        session.params(**app.session.parameters)
        app._adopt(session)


def add_module(path: Path, session: Session, report: LoadReport, *, root: Path | None = None,
               insecure: bool = True,
               import_timeout: float | None = DEFAULT_IMPORT_TIMEOUT) -> None:
    """Import ``path`` and merge its tasks into ``session`` (all or nothing)."""
    try:
        loaded = load_module(path, root or path.parent, insecure=insecure,
                             import_timeout=import_timeout)
    except ModuleLoadError as err:
        report.errors.append(err)
        return
    added: list[Task] = []
    try:
        for task in loaded.tasks:
            session.add_task(task)
            added.append(task)
    except DuplicateTaskError as exc:
        for task in added:
            session.remove_task(task)
        report.errors.append(LoadFailure(str(path), str(exc), kind="clash"))
        return
    adopt(loaded, session)
    report.apps.extend(loaded.apps)
    report.modules.append(str(path))
    report.loaded.append(loaded)


def load_folder(folder: str | os.PathLike[str], *, insecure: bool = False,
                import_timeout: float | None = DEFAULT_IMPORT_TIMEOUT) -> LoadReport:
    """Load every task module under ``folder`` into a new session.

    Args:
        folder: The tasks folder.
        insecure: Load modules even when other users can write them.
        import_timeout: Seconds each module may take to import (``None``: no limit, and
            the import runs on the calling thread).
    """
    root = Path(folder)
    session = Session()
    report = LoadReport(session)
    if not root.is_dir():
        report.errors.append(LoadFailure(str(root), "the tasks folder does not exist",
                                         kind="missing"))
        return report
    if not insecure and (problem := check_permissions(root, root)):
        report.errors.append(LoadFailure(str(root), problem, kind="permission"))
        return report
    for path in module_files(root):
        add_module(path, session, report, root=root, insecure=insecure,
                   import_timeout=import_timeout)
    for unknown in session.check_references():
        origin = session[unknown.task].origin or str(root)
        err = ModuleLoadError(origin, str(unknown))
        report.errors.append(err)
        report.reference_errors.append(err)
    return report
