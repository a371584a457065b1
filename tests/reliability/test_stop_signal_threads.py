"""A stop signal is acted on whichever of the scheduler's threads the kernel hands it to.

Linux delivers a signal sent to a process to any one of its threads that does not block
it, and Python runs the handler on the main thread only. A main thread asleep in a call
that the signal does not interrupt would never run it (a ``kill`` that is ignored).
"""

from __future__ import annotations

import ctypes
import signal
import sys
from pathlib import Path

import pytest
from cli_process import Headless

TASKS = '''
from tui_sched import App
app = App()

@app.task("daily")
def nightly():
    pass
'''


def _other_thread(pid: int) -> int:
    """A thread of ``pid`` other than its main thread."""
    tids = sorted(int(t.name) for t in Path(f"/proc/{pid}/task").iterdir())
    return next(t for t in tids if t != pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tgkill is Linux's")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_delivered_to_another_thread_still_stops_the_scheduler(
        tmp_path: Path, sig: signal.Signals) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "jobs.py").write_text(TASKS)
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("nightly: success")  # started, and idle from now on
        # As the kernel may do with a plain kill: the signal goes to one thread, here
        # one that is not the main thread.
        tgkill = ctypes.CDLL(None, use_errno=True).tgkill
        assert tgkill(proc.proc.pid, _other_thread(proc.proc.pid), int(sig)) == 0
        proc.expect(f"received {sig.name}: shutting down", timeout=20)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
