"""Keep a running session in step with its folder of task modules (hot reload).

The ``Reloader`` is the one owner of "which file declared which task". It loads the
whole folder when the engine host (re)builds the session (``build``), then watches the
folder and reloads what changed, in batches, swapping each batch into the session
atomically (``Session.swap_tasks``). Both ``tui-sched run`` and the TUI use it.

Why a reload can never take the scheduler down:

* each module is first imported in a throw-away process (``vetting``): one that exits,
  crashes or hangs at import is reported from there and never imported here;
* imports run on a worker thread with a deadline (a module that hangs is abandoned);
* the watcher and the reloads run on the watcher thread, never on the engine's loop;
* a module that fails keeps its last good version in the session;
* everything is reported as events (``ModuleLoaded``, ``ModuleFailed``, and the reload
  events of ``tui_sched.reload.events``), never raised.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tui_sched.engine.bus import EventBus
from tui_sched.engine.events import Event, ModuleFailed, ModuleLoaded
from tui_sched.engine.session import Session
from tui_sched.errors import DuplicateTaskError, ModuleLoadError, UnknownTaskReference
from tui_sched.frozen import value
from tui_sched.reload.diff import (
    FileDiff,
    Fingerprint,
    Plan,
    declared_disabled,
    fingerprint,
    plan_batch,
)
from tui_sched.reload.events import ReloadFinished, ReloadWarning, WatchStatus
from tui_sched.reload.loader import (
    LoadedModule,
    LoadFailure,
    LoadReport,
    adopt,
    file_digest,
    file_stamp,
    load_folder,
    load_modules,
    module_files,
)
from tui_sched.reload.settings import ReloadSettings
from tui_sched.reload.vetting import hold_spare, release_spare
from tui_sched.reload.watcher import FolderWatcher
from tui_sched.store.base import RunStore
from tui_sched.tasks.task import Task

#: Failures that a change elsewhere in the folder may cure, so they are retried then
#: (``exit``: a helper it imports may be what ended the interpreter).
_RETRY_ON_CHANGE = frozenset({"clash", "exit", "import", "permission"})


@value
class _Good:
    """The last good version of a module, as it runs in the session."""

    stamp: tuple[int, int, int]
    digest: str
    prints: dict[str, Fingerprint]
    deps: frozenset[str]
    module_name: str


@value
class _Bad:
    """The last failed attempt at a module."""

    error: ModuleLoadError
    kind: str
    stamp: tuple[int, int, int] | None
    digest: str | None


class Reloader:
    """Loads a folder of task modules into a session and keeps it up to date.

    Typical use (``tui-sched run`` and the TUI do exactly this)::

        bus = EventBus()
        reloader = Reloader("tasks", bus=bus)
        host = EngineHost(FolderBuilder(reloader, open_store), bus=bus)
        host.start()        # the host calls reloader.build() for each (re)start, and
                            # FolderBuilder starts watching after the first one
        ...
        reloader.stop()     # at exit (the watcher is a daemon thread either way)

    Without ``FolderBuilder``: call ``build()`` from your host builder and ``start()``
    once. ``reload(paths)`` runs a pass synchronously (tests, a "reload now" key).

    It follows ``EngineHost`` restarts by construction: every ``build()`` loads the folder
    afresh into a new session and makes it the target of later reloads; the session
    tells whichever engine is bound to it.

    Events (all on ``bus``): ``ModuleLoaded(path, added, removed, changed)`` per module
    reloaded or deleted (a deleted file lists its tasks as removed; ``build`` announces
    only failures);
    ``ModuleFailed(path, error, line, traceback)`` per module that failed (its last good
    version keeps running); ``ReloadWarning`` (e.g. a condition naming an unknown task);
    ``ReloadFinished(batch, files, loaded, failed)`` after each reload pass;
    ``WatchStatus(path, state, message)`` when watching starts, stops, or the folder
    goes missing. Events are published after the session swap, from the watcher thread
    (so they show even while a ``main`` task blocks the engine); paths are absolute,
    under the resolved tasks folder.

    Args:
        folder: The tasks folder.
        bus: Where events go (may also be given to ``start`` or ``build``).
        settings: Watching and loading settings.
        insecure: Load modules that other users can write (``--insecure-permissions``).
    """

    def __init__(self, folder: str | os.PathLike[str], *, bus: EventBus | None = None,
                 settings: ReloadSettings | None = None, insecure: bool = False) -> None:
        self.folder = Path(folder)
        # Resolved once: watchfiles reports paths under it, helpers are imported from it.
        self.root = self.folder.resolve()
        self.bus = bus
        self.settings = settings or ReloadSettings()
        self.insecure = insecure
        self.batches = 0
        """Reload passes so far (a burst of changes is one pass)."""
        self.last_report: LoadReport | None = None
        """What the latest ``build`` loaded (and which modules failed)."""
        self._lock = threading.RLock()
        self._session: Session | None = None
        self._good: dict[Path, _Good] = {}
        self._bad: dict[Path, _Bad] = {}
        self._known_dirs: frozenset[str] = frozenset()
        self._watcher: FolderWatcher | None = None

    # == public API ===================================================================
    @property
    def session(self) -> Session | None:
        """The session reloads go into (the latest build's)."""
        return self._session

    def build(self, bus: EventBus | None = None) -> Session:
        """Load every module of the folder into a new session, which later reloads
        target. Failures are published as ``ModuleFailed`` (and kept in
        ``last_report``); the modules that loaded make up the session."""
        if bus is not None:
            self.bus = bus
        with self._lock:
            report = load_folder(self.root, insecure=self.insecure,
                                 import_timeout=self.settings.import_timeout)
            self.last_report = report
            self._session = report.session
            for stale in self._good.values():  # the previous session's modules
                _forget(stale.module_name)
            self._good = {m.path: self._good_of(m) for m in report.loaded}
            self._bad = {}
            # Modules that loaded are not announced one by one (SchedulerStarted counts
            # the tasks); failures are, so that nobody misses one.
            events: list[Event] = []
            now = time.time()
            for err in report.errors:
                if err in report.reference_errors:
                    events.append(ReloadWarning(now, err.path, str(err)))
                    continue
                path = Path(err.path)
                if path.suffix == ".py":  # not the folder itself
                    self._bad[path] = _Bad(err, getattr(err, "kind", "error"), file_stamp(path),
                                           file_digest(path))
                events.append(_failed(err, now))
            self._update_known_dirs()
        self._publish(events)
        return report.session

    def start(self, bus: EventBus | None = None) -> None:
        """Start watching the folder (no-op when ``settings.watch`` is off or already
        started). Returns at once; a ``WatchStatus("watching")`` event says when changes
        are being picked up."""
        if bus is not None:
            self.bus = bus
        if not self.settings.watch or self._watcher is not None:
            return
        hold_spare()  # reload passes will follow: keep a vetting process ready
        self._watcher = FolderWatcher(self.root, self.settings, self._on_batch,
                                      self._on_status, lambda: self._known_dirs)
        self._watcher.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop watching (waits up to ``timeout`` for a reload in progress)."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop(timeout)
            release_spare()

    def reload(self, paths: Iterable[str | os.PathLike[str]] | None = None) -> int:
        """Reload the given files (``None``: rescan the whole folder) now, on this thread,
        exactly as the watcher would. Returns the pass number (0: nothing to do)."""
        return self._reload(None if paths is None else {Path(p).resolve() for p in paths})

    # == watcher callbacks ============================================================
    def _on_batch(self, paths: set[Path] | None) -> None:
        try:
            self._reload(paths)
        except Exception as exc:  # a bug here must not end the watcher
            self._publish([WatchStatus(time.time(), str(self.root), "error",
                                       f"reloading failed: {type(exc).__name__}: {exc}")])

    def _on_status(self, state: str, message: str) -> None:
        self._publish([WatchStatus(time.time(), str(self.root), state, message)])

    # == one pass =====================================================================
    def _reload(self, paths: set[Path] | None) -> int:
        with self._lock:
            session = self._session
            if session is None or not self.root.is_dir():
                return 0  # nothing built yet / the folder is gone (the watcher reports it)
            files, forced = self._affected(paths)
            to_load = sorted(p for p in files if p.is_file())
            dropped = {p for p in files if not p.is_file() and (p in self._good or p in self._bad)}
            loaded: dict[Path, LoadedModule] = {}
            failures: dict[Path, LoadFailure] = {}
            changed = [p for p in to_load if p in forced or not self._unchanged(p)]
            results = load_modules(changed, self.root, insecure=self.insecure,
                                   import_timeout=self.settings.import_timeout)
            for path, result in results.items():
                if isinstance(result, LoadFailure):
                    failures[path] = result
                else:
                    loaded[path] = result
            if not loaded and not failures and not dropped:
                return 0
            prints = {p: {t.name: fingerprint(t) for t in m.tasks} for p, m in loaded.items()}
            plan = plan_batch(self._current(), prints, dropped, self._unowned(session))
            for path, (name, holder) in plan.clashes.items():
                failures[path] = LoadFailure(str(path), str(DuplicateTaskError(name, holder)),
                                             kind="clash")
            self._swap(session, plan, loaded)
            events = self._record(plan, loaded, prints, failures)
            if not events:
                return 0  # only retries that failed exactly as before: not a reload
            events.extend(self._reference_warnings(session, plan, loaded))
            self.batches += 1
            batch = self.batches
            events.append(ReloadFinished(
                time.time(), batch, tuple(str(p) for p in sorted({*plan.accepted, *failures})),
                len(plan.accepted), len(failures)))
        self._publish(events)
        return batch

    def _affected(self, paths: set[Path] | None) -> tuple[set[Path], set[Path]]:
        """The module files a batch touches, and those to reload even if unchanged."""
        known = set(self._good) | set(self._bad)
        if paths is None:
            files = known | set(module_files(self.root))
        else:
            files = set()
            for path in paths:
                if path.suffix == ".py":
                    files.add(path)
                else:  # a folder moved in, out or deleted
                    files |= {p for p in known if path in p.parents}
                    if path.is_dir():
                        files |= set(module_files(path))
        # Modules that import a changed helper are reloaded with it.
        changed = {str(p) for p in files} | {str(p.resolve()) for p in files if p.exists()}
        forced = {p for p, good in self._good.items() if good.deps & changed}
        # A failure that a change elsewhere may cure (a clash, a missing module) is retried.
        if files:
            forced |= {p for p, bad in self._bad.items() if bad.kind in _RETRY_ON_CHANGE}
        return files | forced, forced

    def _unchanged(self, path: Path) -> bool:
        """Whether the file is as it was at the last attempt (an event may come twice).

        Same stamp *and* same bytes: a ``touch`` forces a reload, and two saves of the
        same size within one tick of the file system clock are still told apart."""
        last = self._bad.get(path) or self._good.get(path)
        if last is None or last.stamp != file_stamp(path):
            return False
        return last.digest == file_digest(path)

    def _current(self) -> dict[Path, dict[str, Fingerprint]]:
        return {p: g.prints for p, g in self._good.items()}

    def _unowned(self, session: Session) -> set[str]:
        owned = {name for g in self._good.values() for name in g.prints}
        return {t.name for t in session.tasks} - owned

    def _swap(self, session: Session, plan: Plan, loaded: dict[Path, LoadedModule]) -> None:
        incoming = {t.name: t for p in plan.accepted if p in loaded for t in loaded[p].tasks}
        declared = {name: declared_disabled(fp) for g in self._good.values()
                    for name, fp in g.prints.items()}
        for name in plan.replaced:
            _carry_flags(session.get(name), incoming[name], declared.get(name))
        session.swap_tasks(sorted(plan.removed), [incoming[n] for n in sorted(plan.added)],
                           [incoming[n] for n in sorted(plan.replaced)],
                           terminate_removed=self.settings.terminate_removed)
        for path in plan.accepted:
            if path in loaded:
                adopt(loaded[path], session)

    def _record(self, plan: Plan, loaded: dict[Path, LoadedModule],
                prints: dict[Path, dict[str, Fingerprint]],
                failures: dict[Path, LoadFailure]) -> list[Event]:
        """Update the per-file state; return the module events of the pass."""
        now = time.time()
        events: list[Event] = []
        for path, diff in plan.accepted.items():
            was_known = path in self._good or path in self._bad
            self._bad.pop(path, None)
            replaced = self._good.pop(path, None)
            if replaced is not None:
                _forget(replaced.module_name)
            if path in loaded:
                self._good[path] = self._good_of(loaded[path], prints[path])
            if path in loaded or was_known:
                events.append(_loaded(diff, now))
        for path in failures:
            if path in loaded:  # imported, then refused (a clash): never used
                _forget(loaded[path].module_name)
        for path, err in failures.items():
            previous = self._bad.get(path)
            stamp = file_stamp(path)
            self._bad[path] = _Bad(err, getattr(err, "kind", "error"), stamp, file_digest(path))
            # A retry that fails exactly as before is not news.
            if previous is None or str(previous.error) != str(err) or previous.stamp != stamp:
                events.append(_failed(err, now))
        self._update_known_dirs()
        return events

    def _reference_warnings(self, session: Session, plan: Plan,
                            loaded: dict[Path, LoadedModule]) -> list[Event]:
        names = {t.name for t in session.tasks}
        now = time.time()
        events: list[Event] = []
        for path in plan.accepted:
            for task in loaded[path].tasks if path in loaded else ():
                for cond in (task.start_cond, task.options.end_cond):
                    for ref in sorted(cond.task_refs() - names) if cond is not None else ():
                        problem = UnknownTaskReference(task.name, ref, names)
                        events.append(ReloadWarning(now, str(path), str(problem)))
        return events

    # == helpers ======================================================================
    @staticmethod
    def _good_of(module: LoadedModule, prints: dict[str, Fingerprint] | None = None) -> _Good:
        if prints is None:
            prints = {t.name: fingerprint(t) for t in module.tasks}
        return _Good(module.stamp, module.digest, prints, module.deps, module.module_name)

    def _update_known_dirs(self) -> None:
        dirs: set[str] = set()
        for path in (*self._good, *self._bad):
            for parent in path.parents:
                if parent == self.root or self.root not in parent.parents:
                    break
                dirs.add(str(parent))
        self._known_dirs = frozenset(dirs)

    def _publish(self, events: list[Event]) -> None:
        bus = self.bus
        if bus is not None:
            for event in events:
                bus.publish(event)


def _forget(module_name: str) -> None:
    """Drop a replaced module version from ``sys.modules``, so that it is freed once no
    run in progress uses it (every save would otherwise keep one more module alive)."""
    sys.modules.pop(module_name, None)


def _carry_flags(old: Task | None, new: Task, old_declared: bool | None) -> None:
    """A replaced task keeps the operator's flags: ``disabled`` if the operator changed
    it from what the module declared, and a pending ``force_run``. (The engine then
    applies the persisted flags too; doing it here first leaves no window in which the
    new version could start against the operator's wish.)"""
    if old is None:
        return
    if old_declared is not None and old.disabled != old_declared:
        object.__setattr__(new, "_disabled", old.disabled)
    object.__setattr__(new, "_force_run", old.force_run)


def _loaded(diff: FileDiff, at: float) -> ModuleLoaded:
    return ModuleLoaded(at, str(diff.path), diff.added, diff.removed, diff.changed)


def _failed(err: ModuleLoadError, at: float) -> ModuleFailed:
    return ModuleFailed(at, err.path, err.message, err.line, err.traceback)


@dataclass
class FolderBuilder:
    """An ``EngineHost`` builder: loads the folder through ``reloader`` and opens the
    store, for each (re)start. Starts watching after the first build (so the same object
    serves ``tui-sched run`` and the TUI); ``reloader.stop()`` ends it.

    Args:
        reloader: Loads and watches the folder.
        open_store: Opens the run store.
        watch: Start the reloader's watcher after the first build.
    """

    reloader: Reloader
    open_store: Callable[[], RunStore]
    watch: bool = True
    _started: bool = field(default=False, init=False, repr=False)

    def __call__(self, bus: EventBus | None = None) -> tuple[Session, RunStore]:
        session = self.reloader.build(bus)
        report = self.reloader.last_report
        if self.reloader.bus is None and report is not None:
            for err in report.errors:  # nobody listens: never fail silently
                print(f"error: {err}", file=sys.stderr)
        if self.watch and not self._started:
            self._started = True
            self.reloader.start()
        return session, self.open_store()
