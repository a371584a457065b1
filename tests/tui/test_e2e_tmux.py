"""End to end: the real ``tui-sched`` command in tmux, driven with ``send-keys`` and read
with ``capture-pane`` (waiting on screen content with a deadline, never fixed sleeps)."""

from __future__ import annotations

import json
import os
import re
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
    """A private tmux server (its own socket) running one command in a window (120x40)."""

    def __init__(self, command: str, size: tuple[int, int] = (120, 40)) -> None:
        self.socket = f"tui-sched-test-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-s", "e2e", "-x", str(size[0]), "-y", str(size[1]), command)
        # Pinned (window-size manual): with no client attached, tmux may otherwise fall
        # back to its default 80x24 while the test runs.
        self.resize(*size)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", "e2e", "-x", str(width), "-y", str(height))

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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_the_log_follows_from_the_first_launch_through_resizes_and_help_fits_80x24(
        tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    shutil.copytree(Path(__file__).resolve().parents[2] / "tasks", tasks,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for path in (tasks, *tasks.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    exit_file = tmp_path / "exit.txt"
    command = (f"cd {shlex.quote(str(tmp_path))} && env {_env()} {shlex.quote(str(BIN))} tasks; "
               f"echo EXIT=$? > {shlex.quote(str(exit_file))}")
    tmux = Tmux(command, size=(120, 35))
    try:
        # A fresh first launch: the header appears, runs start, the log fills; three
        # seconds on (the header's uptime), it still follows.
        screen = tmux.wait(lambda s: "Tasks 11/11" in s and "✓ success" in s
                           and re.search(r"up ([3-9]\.\d\ds|\d+s)", s) is not None,
                           "3 s of runs logged", timeout=20)
        assert "TAIL" in screen and "PAUSED" not in screen, screen
        for size in ((80, 24), (200, 50), (120, 35)):
            tmux.resize(*size)
            screen = tmux.wait(lambda s: "TAIL" in s or "PAUSED" in s, f"the log at {size}")
            assert "PAUSED" not in screen, screen
        tmux.resize(80, 24)
        tmux.wait(lambda s: "q Quit" in s and "? Help" in s, "Quit and Help in the footer at 80x24")
        tmux.keys("?")
        screen = tmux.wait(lambda s: "Main screen (any pane)" in s, "the help")
        assert all(len(line) <= 80 for line in screen.splitlines())
        tmux.keys("End")
        tmux.wait(lambda s: "[keymap] table of tui-sched.toml" in s, "the help's last lines")
        tmux.keys("Escape")  # alone: ESC then q at once reads as alt+q
        tmux.wait(lambda s: "Keys (key" not in s, "the help closed")
        tmux.keys("q")
        tmux.wait(lambda s: "Shut down the scheduler?" in s, "the shutdown question")
        tmux.keys("y")
        poll(lambda: exit_file.exists() and bool(exit_file.read_text().strip()), 30,
             lambda: f"no exit; screen:\n{tmux.screen()}")
        assert exit_file.read_text().strip() == "EXIT=0"
    finally:
        tmux.kill()
