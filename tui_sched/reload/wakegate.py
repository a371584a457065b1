"""Sleep until something under the tasks folder changes, without waking up to look.

watchfiles hands changes over by polling: its loop sleeps ``step_ms`` (50 ms), then looks
at what its OS watcher collected, 20 times a second for as long as ``watch()`` runs, even
when nothing changes (most of an idle scheduler's CPU, issue 23). The watcher therefore
only runs watchfiles while there is something to hand over: between batches it blocks
here, on an inotify descriptor of its own, until the kernel reports an event under the
folder (or the watcher is stopped). The events themselves are read by watchfiles, whose
watches are in place all along, so nothing is lost while this gate is closed.

Linux only: ``WakeGate.open`` returns ``None`` elsewhere, or when inotify is out of
watches, and the watcher keeps watchfiles' own rhythm.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
import sys
import threading
from pathlib import Path

from tui_sched.reload.loader import is_skipped_dir

# <sys/inotify.h>
_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF = 0x400, 0x800
_IN_Q_OVERFLOW, _IN_ONLYDIR, _IN_ISDIR = 0x4000, 0x01000000, 0x40000000
_IN_NONBLOCK, _IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
#: Every change watchfiles reports (created, modified incl. metadata, moved, deleted).
_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO
         | _IN_CREATE | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_ONLYDIR)
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        return libc
    except (OSError, AttributeError):
        return None


class WakeGate:
    """An inotify descriptor over a folder tree (hidden and ``__`` folders left out) and
    a pipe that interrupts the wait. Thread-safe: ``interrupt`` and ``close`` may come
    from any thread."""

    def __init__(self, libc: ctypes.CDLL, fd: int, root: Path) -> None:
        self._libc = libc
        self._fd = fd
        self._root = root
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._lock = threading.Lock()
        self._closed = False
        # Set when a new folder could not be watched: a save in it would not wake the
        # gate, so from then on it never closes (watchfiles' own rhythm).
        self._open_for_good = False

    @classmethod
    def open(cls, root: Path) -> WakeGate | None:
        """A gate over ``root`` with its watches in place, or ``None`` where inotify is
        unavailable (the caller then polls as before)."""
        libc = _libc()
        if libc is None:
            return None
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return None
        gate = cls(libc, fd, root)
        if not gate._watch_tree(root):
            gate.close()
            return None
        return gate

    def _watch_tree(self, top: Path) -> bool:
        """Watch ``top`` and the folders below it; ``False`` if a watch could not be
        added (e.g. ``fs.inotify.max_user_watches`` reached)."""
        for folder, dirs, _ in os.walk(top):
            dirs[:] = [d for d in dirs if not is_skipped_dir(d)]
            failed = self._libc.inotify_add_watch(self._fd, os.fsencode(folder), _MASK) < 0
            # A folder below that went away meanwhile (ENOENT, ENOTDIR) is no failure.
            if failed and (folder == str(top) or ctypes.get_errno() not in (2, 20)):
                return False
        return True

    def wait(self) -> bool:
        """Block until an event under the folder (``True``) or ``interrupt`` (``False``).
        Reads the events that woke it, and watches folders that were created or moved in."""
        if self._open_for_good:
            return True
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while True:
            ready = {fd for fd, _ in poller.poll()}
            if self._wake_r in ready:
                return False
            if self._fd in ready and self._drain():
                return True

    def _drain(self) -> bool:
        """Read the pending events (``True`` if there were any); watch new folders."""
        new_dirs = False
        seen = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            seen = True
            at = 0
            while at + _EVENT.size <= len(data):
                _, mask, _, size = _EVENT.unpack_from(data, at)
                at += _EVENT.size + size  # (then the name, padded)
                # A folder made or moved in; or the queue overflowed and it may hold one.
                if ((mask & _IN_ISDIR and mask & (_IN_CREATE | _IN_MOVED_TO))
                        or mask & _IN_Q_OVERFLOW):
                    new_dirs = True
        if new_dirs:
            # The event names a folder relative to a watch; rather than map watch
            # descriptors back to paths, look at the whole tree again (adding a watch
            # that exists is a no-op), which only happens when folders appear.
            self._open_for_good = not self._watch_tree(self._root)
        return seen

    def interrupt(self) -> None:
        """Make ``wait`` return ``False`` (now, or at its next call)."""
        with self._lock:
            if not self._closed:
                try:
                    os.write(self._wake_w, b"x")
                except BlockingIOError:
                    pass  # already pending

    def close(self) -> None:
        """Release the descriptors."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for fd in (self._fd, self._wake_r, self._wake_w):
                os.close(fd)
