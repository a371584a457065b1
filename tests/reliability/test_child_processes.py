"""Commands and tasks that leave children behind (issue 18, item 3).

Real schedulers (``tui-sched run`` in a subprocess), real process groups, ``setsid``,
``sleep`` and signals. Every process a test starts is killed by the test at the end,
whatever the scheduler did with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import Headless

from tui_sched.errors import StateLockedError
from tui_sched.executors.children import ChildLedger
from tui_sched.statedir import InstanceLock

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def _stat(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` fields from the state on (state, ppid, pgrp, ...)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as gone)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat(int(name))
            if fields is not None and int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(name))
    return members


def wait_for(check, what: str, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    """Poll a condition on processes outside our control, up to a deadline."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not in {timeout:g} s: {what}"
        time.sleep(0.05)


def pids_in(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


@pytest.fixture
def reap() -> Iterator[list[int]]:
    """Pids (and process groups) the test started through a scheduler: killed at the end."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def tasks_folder(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "jobs.py").write_text(textwrap.dedent(source))
    return folder


def duration_of(line: str) -> float:
    return float(line.split(" in ", 1)[1].split(" s", 1)[0])


def stop(proc: Headless) -> int:
    """Two SIGTERMs (the second terminates running runs); the exit code."""
    proc.signal(signal.SIGTERM)
    proc.expect("shutting down")
    proc.signal(signal.SIGTERM)
    return proc.wait(timeout=20)


@pytest.mark.slow
def test_a_command_whose_setsid_grandchild_holds_the_pipes_ends_at_its_timeout(
        tmp_path: Path, reap: list[int]) -> None:
    escaped = tmp_path / "escaped.pid"
    tasks_folder(tmp_path, f'''
        from tui_sched import App
        app = App()
        app.task(command="setsid sleep 3099 & echo $! > {escaped}; sleep 3098",
                 name="escape", timeout=2, force_run=True)
    ''')
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("escape: started")
        wait_for(lambda: pids_in(escaped), "the command started its grandchild")
        reap.extend(pids_in(escaped))
        line = proc.expect("escape: terminate in ", timeout=20)
        # Timeout (2 s), the group's SIGTERM, and at most 1 s reading the pipes that the
        # escaped grandchild keeps open.
        assert duration_of(line) < 6.0, line
        assert "timed out after 2 s" in line
        started = time.monotonic()
        assert stop(proc) == 0
        assert time.monotonic() - started < 10
    finally:
        proc.kill()
    # Out of the group by setsid, it is out of our reach too (as the README says).
    assert all(alive(pid) for pid in pids_in(escaped))


@pytest.mark.slow
def test_a_command_ends_when_its_shell_exits_and_its_background_child_with_it(
        tmp_path: Path, reap: list[int]) -> None:
    background = tmp_path / "background.pid"
    tasks_folder(tmp_path, f'''
        from tui_sched import App
        app = App()
        app.task(command="sleep 3097 & echo $! > {background}; echo done",
                 name="bg", force_run=True)
    ''')
    proc = Headless("tasks", cwd=tmp_path)
    try:
        line = proc.expect("bg: success in ", timeout=20)
        reap.extend(pids_in(background))
        assert duration_of(line) < 3.0, line  # (5 s and more before)
        assert any(x.endswith("bg | done") for x in proc.lines), proc.lines
        [child] = pids_in(background)
        wait_for(lambda: not alive(child), "the background child ended with its group", 5)
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()


@pytest.mark.slow
def test_after_sigkill_the_restart_ends_what_the_killed_scheduler_left_before_running_again(
        tmp_path: Path, reap: list[int]) -> None:
    shells, grandchildren = tmp_path / "shells", tmp_path / "grandchildren"
    tasks_folder(tmp_path, f'''
        import subprocess, time
        from tui_sched import App
        app = App()
        app.task("daily", command="echo $$ >> {shells}; sleep 3096", name="nightly")

        @app.task("daily", execution="process")
        def spawner():
            child = subprocess.Popen(["sleep", "3095"])
            with open("{grandchildren}", "a") as f:
                f.write(f"{{child.pid}}\\n")
            time.sleep(3000)
    ''')
    first = Headless("tasks", cwd=tmp_path)
    try:
        wait_for(lambda: pids_in(shells) and pids_in(grandchildren), "both tasks started")
    finally:
        first.kill()
    [shell], [grandchild] = pids_in(shells), pids_in(grandchildren)
    reap.extend([shell, grandchild])
    # What the issue saw: the command's group and the task's grandchild outlive it.
    assert group_members(shell) and alive(grandchild)
    second = Headless("tasks", cwd=tmp_path)
    try:
        # (After the crash back-off, 10 s, and the start-up of a loaded machine.)
        wait_for(lambda: len(pids_in(shells)) == 2, "nightly ran again after the crash",
                 timeout=60)
        reap.extend(pids_in(shells) + pids_in(grandchildren))
        # Ended before anything was scheduled: never two copies of the daily command.
        assert not group_members(shell), "the killed scheduler's command still runs"
        assert not alive(grandchild), "the killed scheduler's process task's child still runs"
        # Each is said, before the first run starts.
        first_run = second.lines.index(second.expect("nightly: started"))
        ended = [x for x in second.lines[:first_run]
                 if "left running by a scheduler that was killed" in x]
        assert any(f"group {shell}" in x and "nightly" in x for x in ended), second.lines
        assert any("process worker" in x for x in ended), second.lines
        assert stop(second) == 0
    finally:
        second.kill()
    # A scheduler that stopped normally leaves nothing running and nothing to end.
    assert not any(group_members(pid) for pid in pids_in(shells))
    assert not any(alive(pid) for pid in pids_in(grandchildren))
    assert not list((tmp_path / ".tui-sched" / "children").iterdir())


def test_a_ledger_entry_whose_pid_was_reused_is_left_alone(tmp_path: Path) -> None:
    ledger = ChildLedger(tmp_path / "children")
    ours = subprocess.Popen(["sleep", "3094"], start_new_session=True)
    stranger = subprocess.Popen(["sleep", "3093"], start_new_session=True)
    try:
        ledger.track(ours.pid, "command of task 'x': sleep 3094")
        ledger.track(stranger.pid, "command of task 'y': sleep 3093")
        # As if the pid had been handed to another process since: another start time.
        entry = tmp_path / "children" / str(stranger.pid)
        entry.write_text(entry.read_text().replace('"start": ', '"start": 1'))
        ended = ledger.end_leftovers(grace=5)
        assert [g.pgid for g in ended] == [ours.pid]
        assert ours.wait(5) == -signal.SIGTERM
        assert stranger.poll() is None
        assert not list((tmp_path / "children").iterdir())
    finally:
        for p in (ours, stranger):
            p.kill()
            p.wait()


@pytest.mark.slow
def test_a_thread_task_that_forks_and_never_exits_does_not_keep_the_state_folder(
        tmp_path: Path, reap: list[int]) -> None:
    forked = tmp_path / "forked.pid"
    tasks_folder(tmp_path, f'''
        import os, time
        from tui_sched import App
        app = App()

        @app.task(force_run=True, execution="thread")
        def forker():
            pid = os.fork()
            if pid == 0:  # a copy of the scheduler that never exits
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                os.dup2(null, 2)
                time.sleep(3000)
                os._exit(0)
            with open("{forked}", "a") as f:
                f.write(f"{{pid}}\\n")
    ''')
    first = Headless("tasks", cwd=tmp_path)
    try:
        first.expect("forker: success")
        reap.extend(pids_in(forked))
        first.signal(signal.SIGTERM)
        assert first.wait() == 0
    finally:
        first.kill()
    [copy] = pids_in(forked)
    assert alive(copy)
    second = Headless("tasks", cwd=tmp_path)
    try:
        second.expect("forker: success")  # it forks again: that copy is killed too
        second.signal(signal.SIGTERM)
        assert second.wait() == 0
    finally:
        second.kill()
        reap.extend(pids_in(forked))


_HOLD_AND_FORK = textwrap.dedent('''
    import ctypes, os, sys, time
    from pathlib import Path
    from tui_sched.statedir import InstanceLock

    InstanceLock(Path(sys.argv[1])).acquire()
    # libc's fork, not os.fork: Python's at-fork hooks do not run (as from C code).
    pid = ctypes.CDLL(None).fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        time.sleep(3000)
        os._exit(0)
    print(os.getpid(), pid, flush=True)
    os._exit(0)
''')


def test_the_lock_message_names_the_live_holder_never_a_pid_that_has_exited(
        tmp_path: Path, reap: list[int]) -> None:
    state = tmp_path / "state"
    out = subprocess.run([sys.executable, "-c", _HOLD_AND_FORK, str(state)],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    parent, child = (int(x) for x in out.split())
    reap.append(child)
    assert not alive(parent) and alive(child)
    with pytest.raises(StateLockedError) as caught:
        InstanceLock(state).acquire()
    message = str(caught.value)
    assert f"(pid {child})" in message, message
    assert str(parent) not in message
