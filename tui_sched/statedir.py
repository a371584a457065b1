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


#: The instance locks this process holds (let go in forked children).
_HELD: set[InstanceLock] = set()
_FORK_HOOKED = False


def _drop_locks_in_child() -> None:
    # An flock belongs to the open file, which a fork shares: a child that outlives the
    # scheduler (a task that forked and never exited) would hold the state folder.
    for lock in _HELD:
        lock._forget()
    _HELD.clear()


class InstanceLock:
    """An exclusive ``flock`` on ``<state>/lock``, held for the process lifetime.

    The kernel drops the lock when the process dies, so a crash can never leave it stale.
    A child forked from the scheduler (``os.fork`` in a task) does not keep it.
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
            recorded = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            holder = _holder(self.state_dir / LOCK_FILE, recorded)
            raise StateLockedError(str(self.state_dir), holder) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        global _FORK_HOOKED
        if not _FORK_HOOKED:
            os.register_at_fork(after_in_child=_drop_locks_in_child)
            _FORK_HOOKED = True
        _HELD.add(self)

    def release(self) -> None:
        """Release the lock (idempotent)."""
        _HELD.discard(self)
        self._forget()

    def _forget(self) -> None:
        """Close this process's reference to the lock (it is gone with the last one)."""
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None


def _holder(lock_file: Path, recorded: str) -> str | None:
    """The pid(s) of the live processes that hold ``lock_file`` open, else the recorded
    pid if that process is alive; ``None`` rather than a pid that has exited.

    The file holds the pid of the scheduler that took the lock, but a process it forked
    (with fork hooks bypassed, e.g. from C) can hold the lock after that pid is gone.
    """
    holders = _processes_with_open(lock_file)
    if holders:
        return recorded if recorded in holders else ", ".join(holders)
    if recorded.isdigit() and _alive(int(recorded)):
        return recorded
    return None


def _processes_with_open(path: Path) -> list[str]:
    """Pids whose open files include ``path`` (Linux ``/proc``; ``[]`` elsewhere)."""
    try:
        target = os.stat(path)
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []
    found = []
    for pid in pids:
        try:
            fds = os.scandir(f"/proc/{pid}/fd")
        except OSError:
            continue  # gone, or another user's
        with fds:
            for entry in fds:
                try:
                    st = os.stat(entry.path)
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
                    found.append(pid)
                    break
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
