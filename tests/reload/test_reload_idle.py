"""An idle tasks folder costs the watcher nothing (issue 23): its thread sleeps until a
file changes, still sees the next save, and stops promptly while asleep."""

from __future__ import annotations

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


@pytest.mark.slow
def test_an_idle_watcher_sleeps_until_a_file_changes(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    jobs = write(folder / "jobs.py", JOB)
    with ReloadEnv(folder) as env:
        thread = watcher_thread()
        # A measurement window, not a settling wait: watchfiles alone wakes every
        # step_ms (50 ms), about 30 times in it; the catch-up rescan's own file
        # activity may cost one short burst (a few steps) at the start.
        before = wakeups(thread)
        time.sleep(1.5)
        assert wakeups(thread) - before <= 6
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
