"""End to end: the real ``tui-sched`` command in tmux, driven with ``send-keys`` and read
with ``capture-pane`` (waiting on screen content with a deadline, never fixed sleeps)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from tuikit import write_tasks

from tui_sched.store.base import Outcome, Trigger
from tui_sched.store.sqlite import SqliteRunStore

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

BIN = Path(sys.executable).parent / "tui-sched"

E2E_TASKS = '''
@app.task()
def hello():
    print("hello from e2e")

@app.task("every 1 hour")
def ticker():
    return "tick"
'''


def poll(check: Callable[[], bool], timeout: float, failure: Callable[[], str]) -> None:
    """Poll real external state (the screen, a file, ``/proc``) until ``check()`` holds;
    past ``timeout`` seconds, fail with ``failure()``."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, failure()
        time.sleep(0.05)


class Tmux:
    """A private tmux server (its own socket) running one command in a 120x40 window."""

    def __init__(self, command: str) -> None:
        self.socket = f"tui-sched-test-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", command)

    def _tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                             timeout=10)
        return out.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "e2e")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "e2e", *keys)

    def wait(self, pred: object, what: str, timeout: float = 8.0) -> str:
        """Poll the screen until ``pred(screen)`` holds (deadline, not a fixed sleep)."""
        seen = [""]

        def holds() -> bool:
            seen[0] = self.screen()
            return bool(pred(seen[0]))  # type: ignore[operator]

        poll(holds, timeout, lambda: f"timed out waiting for {what}; screen:\n{seen[0]}")
        return seen[0]

    def kill(self) -> None:
        self._tmux("kill-server")


def row(screen: str, task: str) -> str:
    return next((ln for ln in screen.splitlines() if f" {task} " in ln and "│" in ln[:3]), "")


def _env() -> str:
    """What the command under test runs with: UTC and this PATH."""
    return f"TZ=UTC PATH={shlex.quote(os.environ.get('PATH', ''))}"


def wait_for_table(tmux: Tmux) -> None:
    """Both example tasks listed, the first run of ``ticker`` done."""
    tmux.wait(lambda s: "Tasks 2/2" in s and "✓ succeeded" in row(s, "ticker"), "the table")


def test_force_run_disable_and_clean_shutdown(tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks", E2E_TASKS)
    exit_file = tmp_path / "exit.txt"
    env = _env()
    command = (f"cd {shlex.quote(str(tmp_path))} && env {env} {shlex.quote(str(BIN))} tasks; "
               f"echo EXIT=$? > {shlex.quote(str(exit_file))}")
    tmux = Tmux(command)
    try:
        wait_for_table(tmux)
        assert "· idle" in row(tmux.screen(), "hello")  # first row: selected
        tmux.keys("f")
        tmux.wait(lambda s: "✓ succeeded" in row(s, "hello"), "hello's forced run")
        tmux.wait(lambda s: "hello from e2e" in s, "hello's output in the log")
        tmux.keys("Down", "d")
        tmux.wait(lambda s: "⊘ disabled" in row(s, "ticker"), "ticker disabled")
        tmux.keys("q")
        tmux.wait(lambda s: "Shut down the scheduler?" in s, "the shutdown question")
        tmux.keys("y")
        poll(lambda: exit_file.exists() and bool(exit_file.read_text().strip()), 8,
             lambda: f"no exit; screen:\n{tmux.screen()}")
        assert exit_file.read_text().strip() == "EXIT=0"
    finally:
        tmux.kill()
    db = tmp_path / ".tui-sched" / "history.sqlite3"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = SqliteRunStore.open_readonly(db)
    try:
        [run] = store.history("hello")
        assert (run.trigger, run.outcome) == (Trigger.FORCED, Outcome.SUCCESS)
        assert run.output_tail == "hello from e2e\n"
        assert store.history("ticker")[0].outcome is Outcome.SUCCESS
    finally:
        store.close()
    listing = subprocess.run([str(BIN), "list", "--json"], cwd=tmp_path, capture_output=True,
                             text=True, check=True, timeout=30)
    disabled = {r["name"]: r["disabled"] for r in json.loads(listing.stdout)}
    assert disabled == {"hello": False, "ticker": True}


def test_the_terminal_vanishing_shuts_down_gracefully(tmp_path: Path) -> None:
    # An SSH session that drops: the pty goes away and the process gets SIGHUP. A module
    # that fails to load keeps an error notification on screen (that once hung the exit).
    write_tasks(tmp_path / "tasks", E2E_TASKS)
    (tmp_path / "tasks" / "bad.py").write_text("from tui_sched import App\napp = App()\nnope\n")
    pidfile = tmp_path / "pid.txt"
    env = _env()
    command = (f"cd {shlex.quote(str(tmp_path))} && echo $$ > {shlex.quote(str(pidfile))} && "
               f"exec env {env} {shlex.quote(str(BIN))} tasks")
    tmux = Tmux(command)
    try:
        wait_for_table(tmux)
        pid = int(pidfile.read_text())
    finally:
        tmux.kill()  # the terminal vanishes
    poll(lambda: not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid), 20,
         lambda: "tui-sched is still running after SIGHUP")
    db = tmp_path / ".tui-sched" / "history.sqlite3"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute('SELECT count(*) FROM runs WHERE "end" IS NULL').fetchone() == (0,)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0]
    except (OSError, IndexError):
        return "zombie"
