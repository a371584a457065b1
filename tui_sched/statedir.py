"""The state folder: history database and the single-instance lock.

Run history holds every run's output, error and traceback, so the folder is private to
its owner (0700, its files 0600) as ``~/.ssh`` is.
"""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

from tui_sched.errors import StateLockedError

HISTORY_FILE = "history.sqlite3"
LOCK_FILE = "lock"
PRIVATE_DIR_MODE = 0o700
"""The state folder's mode: only its owner may list or enter it."""
PRIVATE_FILE_MODE = 0o600
"""The mode of each file in it."""
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def make_private_dir(state_dir: Path) -> list[str]:
    """Create ``state_dir`` 0700, or take group and other access off an existing one and
    off the files in it (history, its WAL and SHM, the lock, corrupt copies).

    Returns:
        A warning per folder or file tightened, or that could not be (the caller
        reports them; nothing here raises for a folder it cannot change).

    Raises:
        OSError: The folder does not exist and cannot be created.
    """
    state_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    warnings: list[str] = []
    for path in (state_dir, *_files_in(state_dir)):
        try:
            mode = stat.S_IMODE(os.lstat(path).st_mode)
        except OSError:
            continue  # gone meanwhile
        if not mode & _OTHERS:
            continue
        private = mode & ~_OTHERS
        try:
            os.chmod(path, private)
        except OSError as exc:
            warnings.append(f"warning: {path} can be read by other users (mode "
                            f"{mode:04o}) and could not be made private: {exc.strerror}; "
                            f"run history holds task output: chmod {private:04o} {path}")
        else:
            warnings.append(f"warning: {path} could be read by other users (mode "
                            f"{mode:04o}); it was made private ({private:04o})")
    return warnings


def _files_in(state_dir: Path) -> list[Path]:
    try:
        return sorted(p for p in state_dir.iterdir() if p.is_file() and not p.is_symlink())
    except OSError:
        return []


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


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


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
        try:
            self.state_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
            fd = os.open(self.state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        except OSError:
            # A state folder that cannot be written (read-only): lock the folder itself,
            # or the nearest one that exists, and carry on; the store says that history
            # is then kept in memory.
            fd = os.open(_nearest_existing(self.state_dir), os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                recorded = os.read(fd, 32).decode(errors="replace").strip()
            except OSError:  # a folder
                recorded = ""
            os.close(fd)
            holder = _holder(self.state_dir / LOCK_FILE, recorded)
            raise StateLockedError(str(self.state_dir), holder) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError:
            pass  # a full disk, or a folder: the pid only names the holder to a second start
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
