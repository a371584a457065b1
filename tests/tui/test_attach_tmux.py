"""``tui-sched attach`` in tmux on a ``tui-sched run`` in another process: keys reach the
scheduler over the control socket, the terminal going away costs nothing but the client,
and the UI follows the scheduler through a restart."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
from cli_process import Headless, cli
from test_e2e_tmux import BIN, Tmux, _env, poll, row
from tuikit import write_tasks

pytestmark = [pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
              pytest.mark.slow]

TASKS = '''
@app.task()
def alpha():
    print("alpha ran")

@app.task("every 3 seconds")
def beat():
    pass

@app.task("daily")
def zeta():
    pass
'''


def attach(tmp_path: Path, exit_file: Path, *args: str) -> Tmux:
    cmd = " ".join(shlex.quote(a) for a in (str(BIN), *args))
    return Tmux(f"cd {shlex.quote(str(tmp_path))} && env {_env()} {cmd}; "
                f"echo EXIT=$? > {shlex.quote(str(exit_file))}")


def history(tmp_path: Path) -> list[dict]:  # type: ignore[type-arg]
    out = cli("history", "--json", "--limit", "1000", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_keys_in_an_attached_ui_reach_the_scheduler_which_outlives_the_terminal(tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks", TASKS)
    sched = Headless("tasks", cwd=tmp_path)
    tmux = other = None
    try:
        sched.expect("zeta: success")
        tmux = attach(tmp_path, tmp_path / "exit.txt", "tasks")  # the lock is held: attaches
        other = attach(tmp_path, tmp_path / "exit2.txt", "attach", "tasks")  # two at once
        for ui in (tmux, other):
            screen = ui.wait(lambda s: f"attached to pid {sched.proc.pid}" in s
                             and "✓ succeeded" in row(s, "zeta"), "the attached table")
            assert "· idle" in row(screen, "alpha")  # first row: selected
        tmux.keys("f")
        for ui in (tmux, other):  # what one UI does, every UI sees
            ui.wait(lambda s: "✓ succeeded" in row(s, "alpha"), "alpha's forced run")
            ui.wait(lambda s: "alpha ran" in s, "alpha's output in the log")
        tmux.keys("Enter")  # the detail screen, its history read over the socket
        tmux.wait(lambda s: "Task alpha" in s and "forced" in s and "alpha ran" in s,
                  "alpha's detail with its forced run and output")
        tmux.keys("Escape")
        tmux.wait(lambda s: "Tasks 3/3" in s, "back on the task table")
        tmux.keys("Down", "Down", "d")
        tmux.wait(lambda s: "⊘ disabled" in row(s, "zeta"), "zeta disabled")
        other.wait(lambda s: "⊘ disabled" in row(s, "zeta"), "zeta disabled, seen by the other UI")
        sched.expect("zeta: disabled")

        tmux.kill()  # the SSH session drops: the client gets SIGHUP and goes
        tmux = None
        other.keys("q")  # the other one detaches
        poll(lambda: (tmp_path / "exit2.txt").exists(), 10, lambda: "the other UI did not detach")
        assert (tmp_path / "exit2.txt").read_text().strip() == "EXIT=0"
        beats = sum(r["task"] == "beat" for r in history(tmp_path))
        # The scheduler runs on: more beats, and it still takes commands.
        poll(lambda: sum(r["task"] == "beat" for r in history(tmp_path)) >= beats + 2, 20,
             lambda: "no beats after the client went")
        assert sched.proc.poll() is None
        assert cli("ctl", "force", "alpha", cwd=tmp_path).returncode == 0
        poll(lambda: sum(r["task"] == "alpha" for r in history(tmp_path)) == 2, 20,
             lambda: "the second forced run is not in the history")
        assert cli("ctl", "shutdown", cwd=tmp_path).returncode == 0
        assert sched.wait() == 0
    finally:
        for ui in (tmux, other):
            if ui is not None:
                ui.kill()
        sched.kill()
    runs = history(tmp_path)
    assert [(r["trigger"], r["outcome"]) for r in runs if r["task"] == "alpha"] == [
        ("forced", "success"), ("forced", "success")]
    assert [r["outcome"] for r in runs if r["task"] == "zeta"] == ["success"]
    beats = sorted(r["start"] for r in runs if r["task"] == "beat")
    assert beats and all(r["outcome"] == "success" for r in runs if r["task"] == "beat")
    started = [line for line in sched.lines if "beat: started" in line]
    assert len(started) == len(beats)  # every run the scheduler made is in the history


def test_an_attached_ui_follows_the_scheduler_through_a_restart_and_q_detaches(tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks", TASKS.replace('"every 3 seconds"', '"daily"'))
    exit_file = tmp_path / "exit.txt"
    first = Headless("tasks", cwd=tmp_path)
    second: Headless | None = None
    tmux = None
    try:
        first.expect("zeta: success")
        tmux = attach(tmp_path, exit_file, "attach", "tasks")
        # The log pane starts with the lines from before the UI existed.
        tmux.wait(lambda s: f"attached to pid {first.proc.pid}" in s and "started with 3 task" in s,
                  "attached to the first, with its log")
        assert cli("ctl", "shutdown", cwd=tmp_path).returncode == 0
        assert first.wait() == 0
        tmux.wait(lambda s: "scheduler gone" in s, "the UI saying the scheduler is gone")
        second = Headless("tasks", cwd=tmp_path)
        second.expect("scheduler started")
        tmux.wait(lambda s: f"attached to pid {second.proc.pid}" in s, "reattached to the second",
                  timeout=15)
        tmux.keys("q")
        poll(lambda: exit_file.exists() and bool(exit_file.read_text().strip()), 10,
             lambda: f"no exit; screen:\n{tmux.screen() if tmux else ''}")
        assert exit_file.read_text().strip() == "EXIT=0"
        assert second.proc.poll() is None  # q detached; the scheduler runs on
        assert cli("ctl", "status", cwd=tmp_path).returncode == 0
    finally:
        if tmux is not None:
            tmux.kill()
        first.kill()
        if second is not None:
            second.kill()


def test_attach_without_a_scheduler_exits_3(tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks", TASKS)
    out = cli("attach", "tasks", cwd=tmp_path)
    assert out.returncode == 3 and "no scheduler is running" in out.stderr
