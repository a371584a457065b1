"""Unix socket plumbing: binding safely, long paths, and who the peer is.

A ``sockaddr_un`` path holds at most 107 bytes, and state folders (deep project trees,
pytest's temporary folders) can be longer. A longer path is reached through
``/proc/self/fd/N/NAME``, ``N`` being a descriptor of its folder, which the kernel
resolves like the real path.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
from collections.abc import Iterator
from pathlib import Path

_MAX_PATH = 100  # bytes: below the kernel's 107 with room to spare


@contextlib.contextmanager
def reachable(path: Path) -> Iterator[str]:
    """A name for ``path`` short enough for ``bind``/``connect``."""
    if len(os.fsencode(path)) <= _MAX_PATH:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def bind_private(path: Path) -> socket.socket:
    """A listening socket at ``path``, mode 0600 from the moment it has that name.

    It is bound under a temporary name, restricted, then renamed over ``path``, so no
    other user ever finds a connectable socket there (and a stale one is replaced).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with reachable(tmp) as name:
            sock.bind(name)
        os.chmod(tmp, 0o600)
        sock.listen(64)
        os.replace(tmp, path)
    except BaseException:
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    sock.setblocking(False)
    return sock


def remove_stale(path: Path) -> bool:
    """Remove a socket file left at ``path`` (the caller holds the instance lock, so no
    scheduler serves it). Returns whether one was removed.

    Raises:
        FileExistsError: Something other than a socket is there (left alone).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISSOCK(st.st_mode):
        raise FileExistsError(f"{path} exists and is not a socket; remove it by hand")
    path.unlink()
    return True


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """``(pid, uid, gid)`` of the process at the other end (``SO_PEERCRED``)."""
    size = struct.calcsize("3i")
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, size)
    pid, uid, gid = struct.unpack("3i", raw)
    return pid, uid, gid


def peer_allowed(uid: int) -> bool:
    """The scheduler's own user and root may connect; nobody else."""
    return uid in (os.geteuid(), 0)
