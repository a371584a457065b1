"""``tui-sched ctl`` against a real ``tui-sched run`` in another process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import BIN, Headless, cli

MODULE = textwrap.dedent('''
    import time
    from tui_sched import App

    app = App()

    @app.task()
    def manual():
        print("manual ran")

    @app.task()
    def long():
        time.sleep(60)

    @app.task()
    def slow():
        time.sleep(2)

    @app.task("daily")
    def report():
        print("report ran")
''')


def make_tasks(root: Path) -> Path:
    folder = root / "tasks"
    folder.mkdir(mode=0o755)
    (folder / "jobs.py").write_text(MODULE)
    return folder


def history(root: Path) -> list[dict]:  # type: ignore[type-arg]
    result = cli("history", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def ctl(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("ctl", *args, cwd=root)


def status(root: Path) -> dict:  # type: ignore[type-arg]
    result = ctl(root, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[Headless]:
    make_tasks(tmp_path)
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("report: success")
        yield proc
    finally:
        proc.kill()


@pytest.mark.slow
def test_ctl_steers_a_running_scheduler(tmp_path: Path, scheduler: Headless) -> None:
    done = ctl(tmp_path, "force", "manual")
    assert done.returncode == 0, done.stderr
    scheduler.expect("manual: success")

    typo = ctl(tmp_path, "force", "manul")
    assert typo.returncode == 1
    assert "no task named 'manul'. Did you mean 'manual'?" in typo.stderr

    assert ctl(tmp_path, "disable", "report").returncode == 0
    scheduler.expect("report: disabled")
    tasks = {t["name"]: t for t in status(tmp_path)["tasks"]}
    assert tasks["report"]["disabled"] is True and tasks["report"]["status"] == "disabled"
    assert tasks["manual"]["last_outcome"] == "success"
    assert ctl(tmp_path, "enable", "report").returncode == 0
    scheduler.expect("report: enabled")

    assert ctl(tmp_path, "force", "long").returncode == 0
    scheduler.expect("long: started")
    assert ctl(tmp_path, "terminate", "long").returncode == 0
    scheduler.expect("long: terminate")

    human = ctl(tmp_path, "status")
    assert human.returncode == 0 and f"scheduler pid {scheduler.proc.pid}" in human.stdout

    assert ctl(tmp_path, "force", "slow").returncode == 0
    scheduler.expect("slow: started")
    assert ctl(tmp_path, "shutdown").returncode == 0
    # It returned once the scheduler had stopped (after slow's 2 s): the line is written.
    scheduler.expect("scheduler stopped", timeout=0.5)
    assert scheduler.wait() == 0
    gone = ctl(tmp_path, "status")
    assert gone.returncode == 3 and "no scheduler is running" in gone.stderr
    runs = {(r["task"], r["trigger"], r["outcome"]) for r in history(tmp_path)}
    assert runs == {("report", "scheduled", "success"), ("manual", "forced", "success"),
                    ("long", "forced", "terminate"), ("slow", "forced", "success")}


@pytest.mark.slow
def test_ctl_restart_brings_the_scheduler_back(tmp_path: Path, scheduler: Headless) -> None:
    assert ctl(tmp_path, "restart").returncode == 0
    scheduler.expect("scheduler stopped (restarting)")
    assert status(tmp_path)["restarts"] == 1  # waits out the restart, then answers
    assert ctl(tmp_path, "force", "manual").returncode == 0
    scheduler.expect("manual: success")


@pytest.mark.slow
def test_ctl_without_a_scheduler_exits_3_and_a_stale_socket_is_cleaned(tmp_path: Path) -> None:
    make_tasks(tmp_path)
    none = ctl(tmp_path, "status")
    assert none.returncode == 3 and "no scheduler is running" in none.stderr

    killed = Headless("tasks", cwd=tmp_path)
    try:
        killed.expect("report: success")
    finally:
        killed.kill()  # SIGKILL: the socket file stays behind
    sock = tmp_path / ".tui-sched" / "control.sock"
    assert sock.exists()
    stale = ctl(tmp_path, "force", "manual")
    assert stale.returncode == 3 and "killed" in stale.stderr

    again = Headless("tasks", cwd=tmp_path)
    try:
        again.expect("removed a stale control socket")
        again.expect("scheduler started")
        assert ctl(tmp_path, "force", "manual").returncode == 0
        again.expect("manual: success")
        again.signal(signal.SIGTERM)
        assert again.wait() == 0
    finally:
        again.kill()
    assert not sock.exists()


def _as_nobody() -> list[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root to run a client as another user")
    if shutil.which("setpriv"):
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    pytest.skip("needs setpriv or runuser")


@pytest.mark.slow
def test_a_peer_with_another_uid_is_refused_and_logged() -> None:
    prefix = _as_nobody()
    # A folder the other user may enter (pytest's tmp_path is 0700 root's).
    root = Path(tempfile.mkdtemp(prefix="tui-sched-peer-"))
    try:
        root.chmod(0o755)
        make_tasks(root)
        proc = Headless("tasks", cwd=root)
        try:
            proc.expect("report: success")
            state = root / ".tui-sched"
            # Open what the 0700 folder and the 0600 socket keep closed, so that only
            # the SO_PEERCRED check stands between the other user and the scheduler.
            state.chmod(0o755)
            (state / "control.sock").chmod(0o666)
            other = subprocess.run([*prefix, str(BIN), "ctl", "force", "manual", "--state", str(state)],
                                   cwd=root, capture_output=True, text=True, timeout=60,
                                   env={**os.environ, "HOME": "/nonexistent"})
            assert other.returncode == 2, (other.stdout, other.stderr)
            assert "refused: uid 65534 may not control this scheduler" in other.stderr
            proc.expect("control socket: refused a connection from uid 65534")
            assert ctl(root, "force", "manual").returncode == 0  # the owner still may
            proc.expect("manual: success")
        finally:
            proc.kill()
        assert ("manual", "forced") in {(r["task"], r["trigger"]) for r in history(root)}
        assert sum(r["task"] == "manual" for r in history(root)) == 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_a_script_running_app_run_serves_the_control_socket_too(tmp_path: Path) -> None:
    (tmp_path / "jobs.py").write_text(textwrap.dedent('''
        from tui_sched import App

        app = App(state_dir="state")

        @app.task()
        def manual():
            print("manual ran")

        if __name__ == "__main__":
            app.run()
    '''))
    proc = subprocess.Popen([sys.executable, "jobs.py"], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "state" / "control.sock").exists():  # a file another process makes
            assert proc.poll() is None and time.monotonic() < deadline, "app.run() serves no socket"
            time.sleep(0.05)
        assert ctl(tmp_path, "force", "manual", "--state", "state").returncode == 0
        assert ctl(tmp_path, "shutdown", "--state", "state").returncode == 0
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "manual ran" in out and "manual: success" in out
