"""Load task modules: one file at a time (``load_module``), a batch (``load_modules``,
used by hot reloads) or a whole folder into one session (``load_folder``, used at
start-up, on restart and by ``tui-sched check``).

Each module's bytes are read once, through the permission check
(``tui_sched.tasks.trust``); those bytes are first imported in a throw-away process
(``vetting``: a module that exits, crashes or hangs at import is reported there and never
imported here), then imported here under a fresh, unique module name, on a worker thread
with a deadline, and the tasks of every ``App`` found in it are collected. A module that
fails (syntax error, exception, exit at import, bad option, hang, unsafe permissions,
name clash) becomes a ``ModuleLoadError`` with file, line and traceback; the others load.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from tui_sched.app import App
from tui_sched.engine.session import Session
from tui_sched.errors import DuplicateTaskError, ModuleLoadError
from tui_sched.frozen import value
from tui_sched.reload.importer import describe, import_guarded
from tui_sched.reload.settings import DEFAULT_IMPORT_TIMEOUT
from tui_sched.reload.vetting import vet
from tui_sched.tasks.modules import Source, fresh_module_name, guard_imports
from tui_sched.tasks.task import Task
from tui_sched.tasks.trust import TaskCodeRefused, check_permissions, check_tree, read_checked

__all__ = ["LoadFailure", "LoadReport", "LoadedModule", "add_module", "adopt", "apps_in",
           "check_permissions", "check_tree", "file_digest", "file_stamp",
           "load_folder", "load_module", "load_modules", "module_files"]

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


def _import(source: Source, root: Path, timeout: float | None
            ) -> tuple[ModuleType, frozenset[str]]:
    path = Path(source.path)
    name = fresh_module_name(path, f"load{next(_generation)}")
    try:
        imported = import_guarded(source, name, root, timeout)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt) and timeout is None:
            raise  # on the calling thread, this may be the operator's Ctrl-C
        failure = describe(exc, path)
        raise LoadFailure(str(path), failure.message, failure.line, failure.traceback,
                          failure.kind) from None
    return imported.module, imported.deps


def apps_in(module: ModuleType) -> list[App]:
    """Every ``App`` instance among the module's globals (each once)."""
    seen: dict[int, App] = {}
    for item in vars(module).values():
        if isinstance(item, App):
            seen.setdefault(id(item), item)
    return list(seen.values())


def _read(path: Path, root: Path, insecure: bool) -> tuple[Source, tuple[int, int, int]]:
    """The module's bytes, read once, through the permission check."""
    stamp = file_stamp(path)
    try:
        data = read_checked(path, root, insecure=insecure)
    except TaskCodeRefused as exc:
        raise LoadFailure(str(path), str(exc), kind="permission") from None
    except OSError as exc:  # deleted between the event and now: a later batch drops it
        raise LoadFailure(str(path), f"cannot read it ({exc})", kind="import") from None
    if stamp is None:
        raise LoadFailure(str(path), "cannot read it (it disappeared)", kind="import")
    return Source.of(path, data), stamp


def _collect(path: Path, source: Source, stamp: tuple[int, int, int], root: Path,
             import_timeout: float | None) -> LoadedModule:
    """Import the accepted bytes here and collect the module's tasks."""
    module, deps = _import(source, root, import_timeout)
    apps = apps_in(module)
    origin = str(path.resolve())
    tasks: dict[str, Task] = {}
    for app in apps:
        for task in app.session.tasks:
            if tasks.setdefault(task.name, task) is not task:
                raise LoadFailure(str(path), str(DuplicateTaskError(task.name, origin)), kind="clash")
            if task.origin != origin:
                object.__setattr__(task, "origin", origin)
    return LoadedModule(path, tuple(tasks.values()), tuple(apps), stamp, source.digest,
                        deps - {origin, str(path.absolute())}, module.__name__)


def load_modules(paths: Iterable[Path], root: Path, *, insecure: bool = False,
                 import_timeout: float | None = DEFAULT_IMPORT_TIMEOUT,
                 vet_first: bool = True) -> dict[Path, LoadedModule | LoadFailure]:
    """Check, read, vet and import task modules (in order) and collect their tasks.

    The tasks are not added to any session; each task's ``origin`` is set to the
    module's resolved path (the file that contributed it, even when a helper declared it).

    Args:
        paths: The module files, under ``root``.
        root: The tasks folder (registered as such for the import hook).
        insecure: Skip the permission check (``--insecure-permissions``).
        import_timeout: Seconds each import may take (``None``: no limit; the import
            runs on the calling thread).
        vet_first: Import each module in a throw-away process first (``vetting``); only
            the modules that import cleanly there are imported here.

    Returns:
        For each path, its ``LoadedModule`` or its ``LoadFailure``.
    """
    guard_imports(root, insecure=insecure)
    results: dict[Path, LoadedModule | LoadFailure] = {}
    read: dict[Path, tuple[Source, tuple[int, int, int]]] = {}
    order = list(paths)
    for path in order:
        try:
            read[path] = _read(path, root, insecure)
        except LoadFailure as err:
            results[path] = err
    sources = [source for source, _ in read.values()]
    # Each verdict arrives as soon as the child has it: the module is imported here
    # while the child goes on with the next one.
    verdicts = vet(sources, root, import_timeout) if vet_first and sources \
        else ((s, None) for s in sources)
    try:
        for (path, (source, stamp)), (_, failure) in zip(read.items(), verdicts, strict=True):
            if failure is not None:
                results[path] = LoadFailure(str(path), failure.message, failure.line,
                                            failure.traceback, failure.kind)
                continue
            try:
                results[path] = _collect(path, source, stamp, root, import_timeout)
            except LoadFailure as err:
                results[path] = err
    finally:
        close = getattr(verdicts, "close", None)
        if close is not None:
            close()  # ends the child if we stopped early
    return {path: results[path] for path in order}


def load_module(path: Path, root: Path, *, insecure: bool = False,
                import_timeout: float | None = DEFAULT_IMPORT_TIMEOUT) -> LoadedModule:
    """``load_modules`` for one file.

    Raises:
        LoadFailure: With file, line, traceback and the kind of failure.
    """
    result = load_modules([path], root, insecure=insecure, import_timeout=import_timeout)[path]
    if isinstance(result, LoadFailure):
        raise result
    return result


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
    loaded = load_modules([path], root or path.parent, insecure=insecure,
                          import_timeout=import_timeout)[path]
    _join(path, loaded, session, report)


def _join(path: Path, loaded: LoadedModule | LoadFailure, session: Session,
          report: LoadReport) -> None:
    if isinstance(loaded, LoadFailure):
        report.errors.append(loaded)
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
                import_timeout: float | None = DEFAULT_IMPORT_TIMEOUT,
                vet_first: bool = True) -> LoadReport:
    """Load every task module under ``folder`` into a new session.

    Args:
        folder: The tasks folder.
        insecure: Load modules even when other users can write them.
        import_timeout: Seconds each module may take to import (``None``: no limit, and
            the import runs on the calling thread).
        vet_first: Import the modules in a throw-away process first (``load_modules``).
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
    results = load_modules(module_files(root), root, insecure=insecure,
                           import_timeout=import_timeout, vet_first=vet_first)
    for path, loaded in results.items():
        _join(path, loaded, session, report)
    for unknown in session.check_references():
        origin = session[unknown.task].origin or str(root)
        err = ModuleLoadError(origin, str(unknown))
        report.errors.append(err)
        report.reference_errors.append(err)
    return report
