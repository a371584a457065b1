"""An idle tasks folder costs the watcher nothing (issue 23): its thread sleeps until a
file changes, still sees the next save, and stops promptly while asleep."""

from __future__ import annotations

import os
import select
import sys
import threading
import time
from pathlib import Path

import pytest
from reloadkit import ReloadEnv, module, write

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="counts wake-ups in /proc; the gate is Linux-only")

JOB = module('''
    @app.task("every 1 hour")
    def job():
        return 1
''')


def wakeups(thread: threading.Thread) -> int:
    """How many times the kernel woke ``thread`` from a sleep (voluntary switches)."""
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    return next(int(line.split(":")[1]) for line in status.splitlines()
                if line.startswith("voluntary_ctxt_switches"))


def watcher_thread() -> threading.Thread:
    return next(t for t in threading.enumerate() if t.name == "tui-sched-watcher")


def syscall_of(thread: threading.Thread) -> str:
    """The number of the system call ``thread`` is blocked in ("running" if none)."""
    return Path(f"/proc/self/task/{thread.native_id}/syscall").read_text().split()[0]


def wait_until_in(thread: threading.Thread, syscall: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while syscall_of(thread) != syscall:
        assert time.monotonic() < deadline, f"{thread.name} never blocked in syscall {syscall}"
        time.sleep(0.005)


def poll_syscall() -> str:
    """The number of ``poll`` on this machine: that of a thread blocked in ``select.poll``
    (where the watcher sleeps between changes; watchfiles' loop sleeps in nanosleep)."""
    r, w = os.pipe()
    poller = select.poll()
    poller.register(r, select.POLLIN)
    thread = threading.Thread(target=poller.poll)
    thread.start()
    try:
        deadline = time.monotonic() + 10.0
        while (Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
               .rsplit(")", 1)[1].split()[0] != "S" or syscall_of(thread) == "running"):
            assert time.monotonic() < deadline
            time.sleep(0.005)
        return syscall_of(thread)
    finally:
        os.write(w, b"x")
        thread.join()
        os.close(r)
        os.close(w)


@pytest.mark.slow
def test_an_idle_watcher_sleeps_until_a_file_changes(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    jobs = write(folder / "jobs.py", JOB)
    with ReloadEnv(folder) as env:
        thread = watcher_thread()
        wait_until_in(thread, poll_syscall())
        # A measurement window, not a settling wait: watchfiles alone wakes every
        # step_ms (50 ms), about 30 times in it.
        before = wakeups(thread)
        time.sleep(1.5)
        assert wakeups(thread) - before <= 2
        mark = env.mark()
        write(jobs, JOB.replace("return 1", "return 2"))
        assert env.loaded(jobs, mark).changed == ("job",)


def test_an_idle_watcher_stops_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder / "jobs.py", JOB)
    with ReloadEnv(folder) as env:
        thread = watcher_thread()
        began = time.monotonic()
        env.reloader.stop()
        assert not thread.is_alive()
        assert time.monotonic() - began < 1.0


def test_a_save_in_a_folder_made_while_watching_wakes_the_watcher(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder / "jobs.py", JOB)
    with ReloadEnv(folder) as env:
        mark = env.mark()
        nested = write(folder / "team" / "nightly" / "nested.py",
                       JOB.replace("def job", "def nested"))
        env.loaded(nested, mark, added=("nested",))
        # The folders are new: the watcher, asleep again, must be woken by a save in them.
        wait_until_in(watcher_thread(), poll_syscall())
        mark = env.mark()
        write(nested, JOB.replace("def job", "def nested").replace("return 1", "return 2"))
        assert env.loaded(nested, mark).changed == ("nested",)
        env.runner.finished("nested")
