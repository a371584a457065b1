"""Import task code: from bytes that passed the permission check, never from a second read.

* ``import_source`` executes a ``Source`` (a file's path and the bytes accepted for it) as
  a new module. The task loader, the folder-import hook below and the process worker all
  use it, so what runs is exactly what was checked.
* ``guard_imports`` installs a meta-path hook that sends every import of a file in a
  registered tasks folder (``import helper``) through ``tui_sched.tasks.trust``.
* ``load_file`` (lazy ``path=`` targets, a worker given a path) imports a file, reusing
  the module while the file is unchanged; ``load_source`` does the same for a ``Source``.
* ``accepted_source`` tells which source a function of the task loader's modules came
  from (with the folder helpers it had imported), so a ``process`` run executes that
  version (the last good one), not the disk's (``load_pinned``).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from tui_sched.frozen import value
from tui_sched.tasks import trust

#: Task modules themselves are imported under these fresh names.
FRESH_PREFIX = "tui_sched_mod_"

_cache: dict[tuple[str, str], ModuleType] = {}
_lock = threading.RLock()


@value
class Source:
    """A file of task code and the bytes that were accepted for it."""

    path: str
    data: bytes
    digest: str

    @classmethod
    def of(cls, path: str | Path, data: bytes) -> Source:
        return cls(str(path), data, hashlib.sha1(data).hexdigest())


@value
class Helper:
    """A folder helper module a task module had imported, as it was accepted."""

    name: str
    source: Source
    package: bool


@value
class Pinned:
    """What a ``process`` worker needs to run the version of a module the scheduler runs:
    its accepted source and that of the folder helpers it had imported."""

    source: Source
    helpers: tuple[Helper, ...]
    key: str
    """Digest over the module and its helpers (the worker reuses a module per key)."""


class AcceptedLoader(importlib.abc.Loader):
    """Executes the accepted bytes of a file (never reads the file again).

    Args:
        source: The file and its bytes.
        pinned: Whether functions of this module run this version in a process worker
            too (the task loader's modules and their helpers), rather than whatever the
            file holds when the run starts (``load_file``).
    """

    def __init__(self, source: Source, *, pinned: bool, package: bool = False) -> None:
        self.source = source
        self.pinned = pinned
        self.package = package
        self.pinning: Pinned | None = None
        """This module and its helpers, worked out once (``accepted_source``)."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        code = compile(self.source.data, self.source.path, "exec", dont_inherit=True)
        exec(code, module.__dict__)

    def get_filename(self, fullname: str) -> str:
        return self.source.path

    def get_source(self, fullname: str) -> str:
        return self.source.data.decode("utf-8", errors="replace")

    def is_package(self, fullname: str) -> bool:
        return self.package


def fresh_module_name(path: Path, tag: str = "") -> str:
    """A module name unique to ``path`` (and ``tag``), valid as an identifier."""
    digest = hashlib.sha1(f"{path.resolve()}|{tag}".encode()).hexdigest()[:12]
    stem = "".join(ch if ch.isalnum() else "_" for ch in path.stem)
    return f"{FRESH_PREFIX}{stem}_{digest}"


def import_source(source: Source, name: str, *, pinned: bool = True) -> ModuleType:
    """Execute ``source`` as a new module called ``name`` and return it.

    The file's folder is put on ``sys.path`` (once) so that sibling helper modules import.
    """
    folder = os.path.dirname(os.path.abspath(source.path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    loader = AcceptedLoader(source, pinned=pinned)
    spec = importlib.util.spec_from_file_location(name, source.path, loader=loader)
    if spec is None:  # pragma: no cover - a loader with a file name always gives a spec
        raise ImportError(f"cannot import {source.path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_source(source: Source, *, pinned: bool = True) -> ModuleType:
    """Import ``source``, reusing the module imported for the same bytes before (its
    folder helpers are imported afresh, from the disk, checked)."""
    return _load(source, (), source.digest, pinned)


def load_pinned(code: Pinned) -> ModuleType:
    """Import a pinned module (reused per ``code.key``); its ``import helper`` statements
    get the pinned helpers, not the files as they are now."""
    return _load(code.source, code.helpers, code.key, True)


def _load(source: Source, helpers: tuple[Helper, ...], key: str, pinned: bool) -> ModuleType:
    global _overlay
    path = os.path.abspath(source.path)
    with _lock:
        module = _cache.get((path, key))
        if module is None:
            drop_folder_modules(os.path.dirname(path))  # its helpers, afresh
            _overlay = {h.name: h for h in helpers}
            try:
                module = import_source(source, fresh_module_name(Path(path), key),
                                       pinned=pinned)
            finally:
                _overlay = {}
            _cache[(path, key)] = module
    return module


def load_file(path: Path, *, outside: bool = True) -> ModuleType:
    """Import the file as it is now, checked as task code (``trust.read_task_code``).

    Raises:
        TaskCodeRefused: The permission check failed.
    """
    data = trust.read_task_code(path, outside=outside)
    return load_source(Source.of(path, data), pinned=False)


def accepted_source(func: Callable[..., Any], file: str | None) -> Pinned | None:
    """The source the task loader accepted for the module ``func`` was defined in (when
    ``file`` is that module's file), with the folder helpers imported so far, or ``None``.
    """
    globs = getattr(func, "__globals__", None)
    loader = globs.get("__loader__") if isinstance(globs, dict) else None
    if not (isinstance(loader, AcceptedLoader) and loader.pinned
            and loader.source.path == file):
        return None
    if loader.pinning is None:  # once per module: a module may declare a thousand tasks
        found = trust.root_of(loader.source.path)
        folder = str(found[0]) if found else os.path.dirname(loader.source.path)
        helpers: list[Helper] = []
        for name in sorted(folder_modules(folder)):
            other = getattr(sys.modules.get(name), "__loader__", None)
            if isinstance(other, AcceptedLoader) and other is not loader:
                helpers.append(Helper(name, other.source, other.package))
        key = hashlib.sha1("|".join([loader.source.digest, *(
            f"{h.name}={h.source.digest}" for h in helpers)]).encode()).hexdigest()
        loader.pinning = Pinned(loader.source, tuple(helpers), key)
    return loader.pinning


# == folder-local helpers =================================================================
def _local_file(module: ModuleType, prefix: str) -> str | None:
    file = getattr(module, "__file__", None)
    if isinstance(file, str):
        file = os.path.abspath(file)
        return file if file.startswith(prefix) else None
    for entry in getattr(module, "__path__", None) or ():  # namespace packages
        if isinstance(entry, str) and os.path.abspath(entry).startswith(prefix):
            return os.path.abspath(entry)
    return None


#: The script being run (``python main.py`` beside its task modules) is no helper:
#: forgetting it would break what needs it (``multiprocessing``'s spawn, pickling).
_SCRIPT_MODULES = frozenset({"__main__", "__mp_main__"})


def folder_modules(folder: str) -> dict[str, str]:
    """Modules in ``sys.modules`` (but task modules under fresh names) whose file lies
    under ``folder``: name -> absolute file."""
    prefix = os.path.join(os.path.abspath(folder), "")
    out: dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        if name.startswith(FRESH_PREFIX) or module is None or name in _SCRIPT_MODULES:
            continue
        file = _local_file(module, prefix)
        if file is not None:
            out[name] = file
    return out


def drop_folder_modules(folder: str) -> None:
    """Forget the helpers imported from ``folder``, so the next import reads (and checks)
    them again. Task modules are kept: a run may be resolving one right now."""
    for name in folder_modules(folder):
        sys.modules.pop(name, None)


# == the import hook ======================================================================
class TaskFolderFinder(importlib.abc.MetaPathFinder):
    """Finds modules as the path finder does; one in a registered tasks folder is
    checked and executed from the bytes that passed (``TaskCodeRefused`` otherwise)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        helper = _overlay.get(fullname)
        if helper is not None:  # a pinned helper (``load_pinned``): already accepted
            return _spec(fullname, AcceptedLoader(helper.source, pinned=True,
                                                  package=helper.package))
        if not trust.has_roots():
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        origin = spec.origin if spec is not None and spec.has_location else None
        if spec is None or origin is None or trust.root_of(origin) is None:
            return None  # not task code: the path finder proper takes it
        data = trust.read_task_code(Path(origin), outside=False)
        if origin.endswith(".py"):
            spec.loader = AcceptedLoader(Source.of(origin, data), pinned=True,
                                         package=spec.submodule_search_locations is not None)
            spec.cached = None
        return spec


def _spec(name: str, loader: AcceptedLoader) -> importlib.machinery.ModuleSpec:
    path = loader.source.path
    spec = importlib.util.spec_from_file_location(
        name, path, loader=loader,
        submodule_search_locations=[os.path.dirname(path)] if loader.package else None)
    assert spec is not None  # a loader with a file name always gives a spec
    spec.cached = None
    return spec


_finder = TaskFolderFinder()
_overlay: dict[str, Helper] = {}
"""The pinned helpers of the module ``_load`` is importing (under ``_lock``)."""


def guard_imports(root: Path | None = None, *, insecure: bool = False) -> None:
    """Register ``root`` as a tasks folder (if given) and make sure every import in this
    process of a file in a tasks folder goes through the permission check."""
    if root is not None:
        trust.register(root, insecure)
    with _lock:
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
