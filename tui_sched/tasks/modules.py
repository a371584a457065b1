"""Import a Python file under a fresh, unique module name.

Used for lazy function tasks and by the process worker. Each distinct version of a file
(by modification time and size) gets its own module name, so a reload never sees stale
module state and two files with the same stem never collide.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
from pathlib import Path
from types import ModuleType

_cache: dict[tuple[str, int, int], ModuleType] = {}
_lock = threading.Lock()


def fresh_module_name(path: Path, tag: str = "") -> str:
    """A module name unique to ``path`` (and ``tag``), valid as an identifier."""
    digest = hashlib.sha1(f"{path.resolve()}|{tag}".encode()).hexdigest()[:12]
    stem = "".join(ch if ch.isalnum() else "_" for ch in path.stem)
    return f"tui_sched_mod_{stem}_{digest}"


def import_file(path: Path, name: str) -> ModuleType:
    """Execute ``path`` as a new module called ``name`` and return it.

    The file's folder is put on ``sys.path`` (once) so that sibling helper modules import.
    """
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_file(path: Path) -> ModuleType:
    """Import ``path``, reusing the module while the file is unchanged."""
    st = os.stat(path)
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    with _lock:
        module = _cache.get(key)
        if module is None:
            module = import_file(path, fresh_module_name(path, f"{key[1]}-{key[2]}"))
            _cache[key] = module
    return module
