"""Tasks that misbehave never take the scheduler down (DESIGN §4)."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest
from harness import EngineRunner

from tui_sched import App
from tui_sched.engine.events import LogLine, RunTerminating
from tui_sched.store.base import Outcome
from tui_sched.store.resilient import open_history


def test_a_task_printing_50_mb_is_bounded_and_others_carry_on() -> None:
    app = App(state_dir=None)

    def flood() -> str:
        line = "x" * 99 + "\n"
        for _ in range(500_000):  # 50 MB
            print(line, end="")
        return "done"

    app.task(func=flood, force_run=True)
    app.task("every 1 second", func=lambda: None, name="steady", execution="main")
    with EngineRunner(app.session, output_tail=4096) as r:
        [run] = r.finished("flood", timeout=60)
        r.advance(1)
        r.finished("steady", 2)
    assert run.outcome is Outcome.SUCCESS
    assert run.output_tail is not None and len(run.output_tail) <= 4096
    lines = [e for e in r.events if isinstance(e, LogLine) and e.task == "flood"]
    # Forwarding stops after ~1 MB with one marker line; the run itself goes on.
    assert 5_000 < len(lines) < 20_000
    assert lines[-1].text.startswith("[output truncated")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


@pytest.mark.slow
def test_a_grandchild_that_ignores_sigterm_is_killed_with_its_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    script = textwrap.dedent(f'''
        sh -c 'trap "" TERM; echo $$ > {pidfile}; while true; do sleep 1; done' &
        wait
    ''')
    app = App(state_dir=None)
    app.task(command=["sh", "-c", script], name="stubborn", timeout=1, force_run=True)
    with EngineRunner(app.session, termination_grace=0.5) as r:
        [run] = r.finished("stubborn", timeout=20)
        assert any(isinstance(e, RunTerminating) for e in r.events)
    assert run.outcome is Outcome.TERMINATE
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while _alive(pid):  # a real process outside our control: poll with a deadline
        assert time.monotonic() < deadline, f"grandchild {pid} survived"
        time.sleep(0.05)


def test_an_unusable_history_path_falls_back_to_memory_with_a_message(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the state folder should be")
    notes: list[str] = []
    store = open_history(blocker / "history.sqlite3", notes.append)
    assert type(store).__name__ == "MemoryRunStore"
    assert len(notes) == 1 and "kept in memory only" in notes[0] and str(blocker) in notes[0]
