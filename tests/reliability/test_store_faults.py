"""A history file that fails never stops the scheduler; a corrupt one is moved aside."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import sqlite3
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import Headless
from harness import START, EngineRunner

from tui_sched import App
from tui_sched.engine.clock import FakeClock
from tui_sched.engine.events import EngineError
from tui_sched.errors import StoreError
from tui_sched.store.base import Outcome
from tui_sched.store.resilient import ResilientStore
from tui_sched.store.sqlite import SqliteRunStore

TASKS = textwrap.dedent('''
    from tui_sched import App
    app = App()

    @app.task("every 1 second", execution="main")
    def tick():
        print("ticked")
''')


def test_a_corrupt_history_file_is_moved_aside_never_deleted(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "t.py").write_text(TASKS)
    state = tmp_path / ".tui-sched"
    state.mkdir()
    garbage = b"this is not a database" * 100
    (state / "history.sqlite3").write_bytes(garbage)
    proc = Headless("tasks", cwd=tmp_path)
    try:
        line = proc.expect("was corrupt; it was moved to")
        proc.expect("tick: success")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
    aside = [p for p in state.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1 and str(aside[0]) in line
    assert aside[0].read_bytes() == garbage
    store = SqliteRunStore.open_readonly(state / "history.sqlite3")
    assert {r.task for r in store.history()} == {"tick"}
    store.close()


def test_a_store_that_fails_mid_run_degrades_to_memory_and_scheduling_goes_on(tmp_path: Path) -> None:
    inner = SqliteRunStore(tmp_path / "h.sqlite3")
    store = ResilientStore(inner)
    app = App(state_dir=None)
    app.task("every 10 seconds", func=lambda: 1, name="tick", execution="main")
    with EngineRunner(app.session, store=store) as r:
        r.finished("tick")
        inner.close()  # the file is gone from under us (disk full, unmounted, ...)
        r.advance(10)
        r.finished("tick", 2)
        r.advance(10)
        runs = r.finished("tick", 3)
        errors = [e for e in r.events if isinstance(e, EngineError)]
    assert [run.outcome for run in runs] == [Outcome.SUCCESS] * 3
    assert len(errors) == 1 and "no longer persisted" in errors[0].message
    assert store.degraded
    ids = [run.id for run in runs]
    assert ids == sorted(set(ids))  # ids stay unique across the switch


# -- the history file under faults, with the real command -----------------------------------
# A small tmpfs (root only) gives a disk that fills up and a folder that turns read-only.

DAILY = textwrap.dedent('''
    from tui_sched import App
    app = App()

    # "every 1 day" rather than "daily": the same question (does a restart remember that
    # it ran?) without a midnight between the two starts of a test.
    @app.task("every 1 day", execution="main")
    def once():
        print("ran once")

    @app.task("every 1 second", execution="main")
    def tick():
        pass
''')


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs, unmounted at the end."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"mounting a tmpfs is not permitted here ({done.stderr.strip()}); "
                    "the full-disk and read-only cases need one (run the tests as root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path) -> None:
    """Write to ``mount`` until it is full."""
    with open(mount / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def read_only(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)


def tasks_folder(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir(mode=0o755)
    (tmp_path / "tasks" / "t.py").write_text(DAILY)
    (tmp_path / "tasks" / "t.py").chmod(0o644)


def session(tmp_path: Path, state: Path, *, expect: str | tuple[str, ...] = (),
            ticks: int = 2) -> list[str]:
    """``tui-sched run`` until the ``expect`` lines and ``ticks`` runs of tick; SIGTERM;
    exit 0. (A SIGTERM stops what has not started yet, even within the start-up tick: a
    caller that needs ``once`` to have run waits for it.)"""
    proc = Headless("tasks", "--state", str(state), cwd=tmp_path)
    try:
        for text in (expect,) if isinstance(expect, str) else expect:
            proc.expect(text)
        for _ in range(ticks):
            proc.expect("tick: success")
            proc.lines = [line for line in proc.lines if "tick: success" not in line
                          ] + ["(tick)"]
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
    assert not any("Traceback" in line for line in proc.lines), proc.lines
    return proc.lines


def ran_once(lines: list[str]) -> bool:
    return any("once: started" in line for line in lines)


def first_session(tmp_path: Path, state: Path) -> None:
    tasks_folder(tmp_path)
    assert ran_once(session(tmp_path, state, expect="once: success", ticks=1))


def test_a_read_only_state_folder_is_reported_and_history_kept_in_memory(
        tmp_path: Path, disk: Path) -> None:
    tasks_folder(tmp_path)
    read_only(disk)
    lines = session(tmp_path, disk / "state",
                    expect=("history is kept in memory only and will not survive a restart",
                            "once: success"))
    assert ran_once(lines)


@pytest.mark.slow
def test_a_read_only_history_is_read_so_what_ran_does_not_run_again(
        tmp_path: Path, disk: Path) -> None:
    first_session(tmp_path, disk / "state")
    read_only(disk)
    lines = session(tmp_path, disk / "state",
                    expect="the history so far was read from it, and new runs are kept in "
                           "memory only")
    # (the control socket cannot be made there either: it says so on a line of its own)
    assert any("cannot open it" in line for line in lines), lines
    assert not ran_once(lines)


def test_a_full_disk_with_a_new_state_folder_is_reported(tmp_path: Path, disk: Path) -> None:
    tasks_folder(tmp_path)
    fill(disk)
    lines = session(tmp_path, disk / "state",
                    expect=("history is kept in memory only and will not survive a restart",
                            "once: success"))
    assert ran_once(lines)
    # Nothing half-made is left to be taken for an emptied history next time.
    assert not (disk / "state" / "history.sqlite3").exists()


@pytest.mark.slow
def test_a_full_disk_keeps_what_the_history_says(tmp_path: Path, disk: Path) -> None:
    first_session(tmp_path, disk / "state")
    fill(disk)
    lines = session(tmp_path, disk / "state",
                    expect="the history so far was read from it, and new runs are kept in "
                           "memory only")
    assert not ran_once(lines)


@pytest.mark.slow
def test_a_history_that_cannot_be_read_holds_every_start_until_it_can(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first_session(tmp_path, state)
    # Another program holds the file locked, with a commit still in its log: the
    # scheduler can neither write it nor read it.
    holder = sqlite3.connect(state / "history.sqlite3", isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("INSERT INTO meta (key, value) VALUES ('held by', 'a test')")
    proc = Headless("tasks", "--state", str(state), cwd=tmp_path)
    try:
        proc.expect("no task is started until it can", timeout=30)
        assert not any(": started (" in line for line in proc.lines), proc.lines
        holder.close()  # releases the lock
        proc.expect("can be read again; scheduling starts", timeout=30)
        proc.expect("tick: success")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
        holder.close()
    assert not ran_once(proc.lines)
    assert "database is locked" in "\n".join(proc.lines)


@pytest.mark.slow
@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_history_deleted_while_running_is_recreated_with_every_run(
        tmp_path: Path, what: str) -> None:
    state = tmp_path / "state"
    tasks_folder(tmp_path)
    proc = Headless("tasks", "--state", str(state), cwd=tmp_path)
    try:
        proc.expect("once: success")
        proc.expect("tick: success")
        if what == "file":
            (state / "history.sqlite3").unlink()
        else:
            shutil.rmtree(state)
        line = proc.expect("was deleted while the scheduler ran; it was recreated")
        assert str(state / "history.sqlite3") in line
        proc.lines.clear()
        proc.expect("tick: success")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
    store = SqliteRunStore.open_readonly(state / "history.sqlite3")
    try:
        runs = store.history(limit=1000)
    finally:
        store.close()
    # Every run is there, before and after the deletion, and the restart knows it.
    assert [r.id for r in runs] == list(range(runs[0].id, 0, -1))
    assert sum(r.task == "once" for r in runs) == 1
    assert oct(os.stat(state / "history.sqlite3").st_mode & 0o777) == "0o600"
    assert not ran_once(session(tmp_path, state, ticks=1))


def test_an_empty_history_file_is_reported(tmp_path: Path) -> None:
    tasks_folder(tmp_path)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "history.sqlite3").touch(mode=0o600)
    lines = session(tmp_path, state, expect=("was empty (0 bytes); a new history was started",
                                             "once: success"), ticks=1)
    assert ran_once(lines)


class _FullAtStart(SqliteRunStore):
    """A real history whose first write at start fails, as on a disk that filled up
    between the open and the first write (reads still work)."""

    def close_open_runs(self, at: float, outcome: Outcome, error: str) -> list:
        raise StoreError(f"run history {self.path}: cannot close runs left open: "
                         "database or disk is full")


def test_a_write_that_fails_at_start_does_not_make_the_engine_forget_what_ran(
        tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    clock = FakeClock(START)
    app = App(state_dir=None)
    app.task("daily", func=lambda: None, name="report", execution="main")
    with EngineRunner(app.session, store=ResilientStore(SqliteRunStore(path)),
                      clock=clock) as r1:
        r1.finished("report")
    r1.store.close()
    clock.advance(3600)
    with EngineRunner(app.session, store=ResilientStore(_FullAtStart(path)),
                      clock=clock) as r2:
        r2.advance(60)
        errors = [e.message for e in r2.events if isinstance(e, EngineError)]
        assert r2.starts("report") == []  # it ran today: the file said so
    r2.store.close()
    assert len(errors) == 1 and "no longer persisted" in errors[0]
