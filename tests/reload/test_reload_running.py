"""A task removed by a reload while it runs: the run finishes and is recorded (or, by
policy, is terminated); the task is then gone. In every execution mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from reloadkit import ReloadEnv, module, write

from tui_sched.engine.events import LogLine
from tui_sched.store.base import Outcome

KEEP = '''
@app.task()
def keep():
    return "kept"
'''

#: Says it runs, then waits for a gate file, so the test decides when the run ends.
#: Module-level functions, so that the process mode can import them by reference. (The
#: test waits for the "running" line: a process run imports its module by reference
#: when the worker picks it up, so a save between "started" and that moment would hand
#: it the new version of the file.)
LONG = {
    "thread": '''
@app.task(execution="thread")
def long():
    print("running", flush=True)
    while not os.path.exists(GATE):
        time.sleep(0.01)
    return "done"
''',
    "main": '''
@app.task(execution="main")
def long():
    print("running", flush=True)
    while not os.path.exists(GATE):
        time.sleep(0.01)
    return "done"
''',
    "process": '''
@app.task(execution="process")
def long():
    print("running", flush=True)
    while not os.path.exists(GATE):
        time.sleep(0.01)
    return "done"
''',
    "async": '''
@app.task(execution="async")
async def long():
    print("running", flush=True)
    while not os.path.exists(GATE):
        await asyncio.sleep(0.01)
    return "done"
''',
}


@pytest.mark.parametrize("mode", ["main", "async", "thread", "process"])
def test_removed_while_running_finishes_then_is_gone(tmp_path: Path, mode: str) -> None:
    gate = tmp_path / "gate"
    header = module(f"GATE = {str(gate)!r}\n")
    jobs = write(tmp_path / "tasks" / "jobs.py", header + KEEP + LONG[mode])
    with ReloadEnv(tmp_path / "tasks") as env:
        env.session["long"].force_run = True
        env.runner.wait_for(lambda e: isinstance(e, LogLine) and e.task == "long"
                            and e.text == "running")
        mark = env.mark()
        write(jobs, header + KEEP)
        # Published from the watcher thread: visible even while a main task blocks the engine.
        assert env.loaded(jobs, mark).removed == ("long",)
        assert "long" not in env.session
        gate.touch()
        [run] = env.runner.finished("long")
        assert run.outcome is Outcome.SUCCESS, run.error
        assert run.return_summary == "'done'"
        env.session["keep"].force_run = True
        env.runner.finished("keep")
        assert len(env.runner.starts("long")) == 1
        assert [r.outcome for r in env.runner.store.history("long")] == [Outcome.SUCCESS]


def test_terminate_policy_stops_a_removed_running_task(tmp_path: Path) -> None:
    jobs = write(tmp_path / "tasks" / "jobs.py", module('''
        @app.task(execution="thread")
        def long(stop=TerminationFlag()):
            stop.wait(30)
            return "stopped early" if stop.is_set() else "ran out"
    '''))
    with ReloadEnv(tmp_path / "tasks", terminate_removed=True) as env:
        env.session["long"].force_run = True
        env.runner.wait_for(lambda e: bool(env.runner.starts("long")))
        mark = env.mark()
        write(jobs, module(KEEP))
        env.loaded(jobs, mark, removed=("long",), added=("keep",))
        [run] = env.runner.finished("long")
        assert run.outcome is Outcome.TERMINATE
        assert "removed by a module reload" in (run.error or "")
