"""The state folder: history database and the single-instance lock."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from tui_sched.errors import StateLockedError

HISTORY_FILE = "history.sqlite3"
LOCK_FILE = "lock"


def default_state_dir(tasks_dir: str | os.PathLike[str]) -> Path:
    """``<parent of TASKS_DIR>/.tui-sched``."""
    return Path(tasks_dir).resolve().parent / ".tui-sched"


class InstanceLock:
    """An exclusive ``flock`` on ``<state>/lock``, held for the process lifetime.

    The kernel drops the lock when the process dies, so a crash can never leave it stale.
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ``StateLockedError`` naming the holder's pid."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode(errors="replace").strip() or None
            os.close(fd)
            raise StateLockedError(str(self.state_dir), pid) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        """Release the lock (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
