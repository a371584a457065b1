"""Run history holds every run's output, errors and tracebacks: the state folder is
private to its owner (0700, its files 0600), and one that others can read is tightened."""

from __future__ import annotations

import os
import signal
import stat
import textwrap
from pathlib import Path

from cli_process import Headless

from tui_sched.store.sqlite import SqliteRunStore

TASKS = textwrap.dedent('''
    from tui_sched import App
    app = App()

    @app.task("every 1 second", execution="main")
    def tick():
        print("secret output")
''')


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def modes(state: Path) -> dict[str, int]:
    return {p.name: mode(p) for p in [state, *state.iterdir()]}


def folder(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir(mode=0o755)
    (tmp_path / "tasks" / "t.py").write_text(TASKS)
    (tmp_path / "tasks" / "t.py").chmod(0o644)


def run_until_a_tick(tmp_path: Path) -> tuple[list[str], dict[str, int]]:
    """``tui-sched run`` until a run is committed; the modes in the state folder then."""
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("tick: success")
        proc.expect("tick: success")  # the first one is committed by now
        seen = modes(tmp_path / ".tui-sched")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
    return proc.lines, seen


def test_a_new_state_folder_and_its_files_are_private(tmp_path: Path) -> None:
    folder(tmp_path)
    old = os.umask(0o022)  # the usual umask (the command inherits it)
    try:
        lines, seen = run_until_a_tick(tmp_path)
    finally:
        os.umask(old)
    assert seen == {".tui-sched": 0o700, "history.sqlite3": 0o600, "history.sqlite3-wal": 0o600,
                    "history.sqlite3-shm": 0o600, "lock": 0o600, "control.sock": 0o600}
    assert not any("warning" in line for line in lines)


def test_a_state_folder_others_can_read_is_made_private_with_a_warning(tmp_path: Path) -> None:
    folder(tmp_path)
    state = tmp_path / ".tui-sched"
    state.mkdir(mode=0o755)
    os.chmod(state, 0o755)
    SqliteRunStore(state / "history.sqlite3").close()
    os.chmod(state / "history.sqlite3", 0o644)
    (state / "history.sqlite3.corrupt-20260101-000000").write_bytes(b"old")
    os.chmod(state / "history.sqlite3.corrupt-20260101-000000", 0o664)

    lines, seen = run_until_a_tick(tmp_path)

    assert set(seen.values()) <= {0o700, 0o600}
    warned = [line for line in lines if "could be read by other users" in line]
    assert len(warned) == 3
    assert any(f"{state} could be read by other users (mode 0755); it was made private "
               "(0700)" in line for line in warned)
    assert any("history.sqlite3 could be read by other users (mode 0644)" in line
               for line in warned)


def test_tightening_keeps_the_owner_s_own_bits(tmp_path: Path) -> None:
    from tui_sched.statedir import make_private_dir

    state = tmp_path / "st"
    state.mkdir(mode=0o750)
    os.chmod(state, 0o750)
    (state / "notes").write_text("x")
    os.chmod(state / "notes", 0o444)
    warnings = make_private_dir(state)
    assert len(warnings) == 2
    assert mode(state) == 0o700 and mode(state / "notes") == 0o400
    assert make_private_dir(state) == []
