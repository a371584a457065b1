"""The real ``tui-sched`` command: run, check, list, history, crash recovery, signals."""

from __future__ import annotations

import json
import signal
import sqlite3
import textwrap
import time
from pathlib import Path

import pytest
from cli_process import Headless, cli

MODULE = textwrap.dedent('''
    import time
    from tui_sched import App

    app = App()

    @app.task("daily", execution="main")
    def report():
        print("report ran")

    @app.task("after task 'report'", execution="{mode}")
    def long():
        time.sleep(60)
''')


def history(tmp_path: Path, *args: str) -> list[dict]:
    result = cli("history", "--json", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def wait_until(check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Poll a real external condition (another process's store) up to a deadline."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def make_tasks(tmp_path: Path, mode: str = "thread") -> Path:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "jobs.py").write_text(MODULE.replace("{mode}", mode))
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["thread", "process", "async", "main"])
def test_sigkill_during_a_run_then_restart_records_crash_and_daily_does_not_rerun(
        tmp_path: Path, mode: str) -> None:
    if mode == "async":
        (make_tasks(tmp_path, mode) / "jobs.py").write_text(
            MODULE.replace("{mode}", mode).replace(
                "def long():\n    time.sleep(60)",
                "async def long():\n    import asyncio\n    await asyncio.sleep(60)"))
    else:
        make_tasks(tmp_path, mode)
    first = Headless("tasks", cwd=tmp_path)
    try:
        first.expect("report: success")
        first.expect("long: started")
        # The log line precedes the commit by up to one tick: wait until it is durable.
        wait_until(lambda: [r["outcome"] for r in history(tmp_path)] == [None, "success"])
    finally:
        first.kill()
    second = Headless("tasks", cwd=tmp_path)
    try:
        line = second.expect("left open by an unclean stop as crash")
        assert "long" in line
        second.expect("scheduler started")
        # `long` runs again: its condition reads the crash as "after this task started".
        second.signal(signal.SIGTERM)
        assert second.wait() == 0
    finally:
        second.kill()
    assert not any("report: started" in x for x in second.lines), second.lines
    hist = json.loads(cli("history", "--json", cwd=tmp_path).stdout)
    by_task: dict[str, list[str]] = {}
    for row in hist:
        by_task.setdefault(row["task"], []).append(row["outcome"])
    assert by_task["report"] == ["success"]
    assert "crash" in by_task["long"]
    db = sqlite3.connect(tmp_path / ".tui-sched" / "history.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(*) FROM runs WHERE end IS NULL").fetchone() == (0,)


@pytest.mark.slow
def test_sigterm_is_graceful_and_history_json_is_stable(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "a.py").write_text(textwrap.dedent('''
        from tui_sched import App
        app = App()

        @app.task("every 1 second", execution="main")
        def tick():
            return 42

        @app.task("every 1 hour", execution="main")
        def broken():
            raise ValueError("bad input")
    '''))
    proc = Headless("tasks", "--state", str(tmp_path / "st"), cwd=tmp_path)
    try:
        proc.expect("tick: success")
        proc.expect("broken: fail")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
    assert any("scheduler stopped" in x for x in proc.lines)
    rows = json.loads(cli("history", "--json", "--state", str(tmp_path / "st"), cwd=tmp_path).stdout)
    assert rows == sorted(rows, key=lambda r: -r["id"])  # newest first
    for row in rows:
        assert {"task", "trigger", "outcome", "start", "end", "duration", "error"} <= set(row)
        assert row["start"].endswith("+00:00")
    broken = next(r for r in rows if r["task"] == "broken")
    assert broken["outcome"] == "fail" and broken["error"] == "ValueError: bad input"
    one = json.loads(cli("history", "tick", "--json", "--state", str(tmp_path / "st"),
                         cwd=tmp_path).stdout)
    assert {r["task"] for r in one} == {"tick"}
    listing = json.loads(cli("list", "--json", "--state", str(tmp_path / "st"), cwd=tmp_path).stdout)
    assert {r["name"]: (r["condition"], r["execution"], r["disabled"], r["last_outcome"])
            for r in listing} == {
        "tick": ("every 1 second", "main", False, "success"),
        "broken": ("every 1 hour", "main", False, "fail"),
    }


def test_sighup_is_graceful_and_leaves_a_consistent_store(tmp_path: Path) -> None:
    make_tasks(tmp_path, "process")
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("long: started")
        proc.signal(signal.SIGHUP)  # the SSH session went away
        proc.expect("shutting down; waiting for 1 running run(s)")
        proc.signal(signal.SIGHUP)
        assert proc.wait() == 0
    finally:
        proc.kill()
    db = sqlite3.connect(tmp_path / ".tui-sched" / "history.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = db.execute("SELECT task, outcome FROM runs ORDER BY id").fetchall()
    assert rows == [("report", "success"), ("long", "terminate")]


@pytest.mark.slow
def test_list_and_history_read_while_the_scheduler_runs(tmp_path: Path) -> None:
    make_tasks(tmp_path)
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("long: started")
        rows = json.loads(cli("history", "--json", cwd=tmp_path).stdout)
        running = [r for r in rows if r["task"] == "long"]
        assert running and running[0]["outcome"] is None and running[0]["end"] is None
        assert {r["name"] for r in json.loads(cli("list", "--json", cwd=tmp_path).stdout)} == {
            "report", "long"}
        second = cli("run", "tasks", cwd=tmp_path)
        assert second.returncode == 2
        assert "already running" in second.stderr
        proc.signal(signal.SIGINT)
        proc.expect("shutting down; waiting for 1 running run(s)")
        proc.signal(signal.SIGINT)  # the second signal terminates the running task
        assert proc.wait() == 0
    finally:
        proc.kill()
    rows = json.loads(cli("history", "long", "--json", cwd=tmp_path).stdout)
    assert rows[0]["outcome"] == "terminate"


def test_check_reports_every_error_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "good.py").write_text("from tui_sched import App\napp = App()\n"
                                    "@app.task('daily')\ndef fine():\n    pass\n")
    (folder / "syntax.py").write_text("from tui_sched import App\napp = App()\n\ndef broken(:\n")
    (folder / "badopt.py").write_text("from tui_sched import App\napp = App()\n"
                                      "app.task('daily', command='true', execution='proces')\n")
    (folder / "clash.py").write_text("from tui_sched import App\napp = App()\n"
                                     "@app.task('daily')\ndef fine():\n    pass\n")
    (folder / "ref.py").write_text("from tui_sched import App\napp = App()\n"
                                   "@app.task(\"after task 'fien'\")\ndef dep():\n    pass\n")
    result = cli("check", "tasks", cwd=tmp_path)
    assert result.returncode == 1
    err = result.stderr
    assert "syntax.py:4" in err
    assert "badopt.py:3" in err and "unknown execution 'proces'" in err
    assert "clash.py" in err and "name=" in err
    assert "'fien'" in err and "did you mean 'fine'" in err.lower()
    assert "4 error(s)" in result.stdout


def test_check_accepts_the_example_tasks() -> None:
    root = Path(__file__).resolve().parents[1]
    result = cli("check", "tasks", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "0 error(s)" in result.stdout


def test_group_writable_module_is_refused_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    mod = folder / "open.py"
    mod.write_text("from tui_sched import App\napp = App()\n")
    mod.chmod(0o664)
    result = cli("check", "tasks", cwd=tmp_path)
    assert result.returncode == 1
    assert "chmod go-w" in result.stderr
    assert cli("check", "tasks", "--insecure-permissions", cwd=tmp_path).returncode == 0
