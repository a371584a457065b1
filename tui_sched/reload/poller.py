"""The polling fallback: compare the folder's module files against a snapshot.

For file systems without change notifications (NFS, SMB, some container mounts).
watchfiles can poll too, but its poller compares modification times in whole seconds, so
a second save within the same second as the previous one is never seen. This one compares
``(mtime_ns, ctime_ns, size, inode)`` of every module file, which is cheap for a folder of
task modules (a ``stat`` each per poll).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tui_sched.reload.loader import module_files

Snapshot = dict[Path, tuple[int, int, int, int]]

_FALSE = ("", "0", "false", "disable", "disabled", "no")


def polling_wanted(force_polling: bool | None) -> bool:
    """Whether to poll: the setting, else ``WATCHFILES_FORCE_POLLING`` (as watchfiles
    reads it), so that the environment switch gets the precise poller too."""
    if force_polling is not None:
        return force_polling
    return os.environ.get("WATCHFILES_FORCE_POLLING", "").strip().lower() not in _FALSE


def scan(root: Path) -> Snapshot:
    """The stat signature of every module file under ``root``."""
    out: Snapshot = {}
    for path in module_files(root):
        try:
            st = path.stat()
        except OSError:
            continue  # went away while we looked
        out[path] = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
    return out


def poll(root: Path, *, delay: float, debounce: float, stop: threading.Event) -> Iterator[set[Path]]:
    """Yield the module files that changed, a burst at a time, every ``delay`` seconds at
    most; an empty set when there is nothing (yet) to report.

    The first (empty) yield comes once the first snapshot is taken. A burst is reported
    once a poll sees nothing new, or after ``debounce`` seconds of continuous changes.
    """
    snapshot = scan(root)
    yield set()
    pending: set[Path] = set()
    since = 0.0
    while not stop.wait(delay):
        current = scan(root)
        changed = {p for p in current.keys() | snapshot.keys() if current.get(p) != snapshot.get(p)}
        snapshot = current
        now = time.monotonic()
        if changed and not pending:
            since = now
        pending |= changed
        if pending and (not changed or now - since >= debounce):
            batch, pending = pending, set()
            yield batch
        else:
            yield set()
