"""The last good version of a module holds in every execution mode (issue 17, item 3):
a ``process`` worker runs the source the loader accepted, not what the file holds now."""

from __future__ import annotations

from pathlib import Path

import pytest
from reloadkit import ReloadEnv, module, save_atomically, write

from tui_sched.engine.events import ModuleFailed
from tui_sched.store.base import Outcome


@pytest.mark.parametrize("execution", ["main", "async", "thread", "process"])
def test_a_syntax_error_keeps_the_last_good_version_running(
        tmp_path: Path, execution: str) -> None:
    folder = tmp_path / "tasks"
    define = "async def" if execution == "async" else "def"
    jobs = write(folder / "jobs.py", module(f'''
        @app.task(execution={execution!r})
        {define} job():
            return "v1"
    '''))
    with ReloadEnv(folder) as env:
        env.session["job"].force_run = True
        [first] = env.runner.finished("job", timeout=20)
        mark = env.mark()
        save_atomically(jobs, jobs.read_text().replace('return "v1"', 'return "v2" +'))
        failure = env.failed(jobs, mark)
        assert failure.error.startswith("SyntaxError")
        env.session["job"].force_run = True
        [_, again] = env.runner.finished("job", 2, timeout=20)
    assert first.outcome is again.outcome is Outcome.SUCCESS
    assert again.return_summary == "'v1'"
    assert not [e for e in env.events if isinstance(e, ModuleFailed) and e.path != failure.path]


def test_a_fresh_worker_runs_the_last_good_version_of_a_helper_too(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    helper = write(folder / "helper.py", 'VALUE = "h1"\n')
    jobs = write(folder / "jobs.py", module('''
        import helper

        @app.task(execution="process")
        def job():
            return helper.VALUE

        @app.task(execution="process")
        def crash():
            os._exit(1)
    '''))
    with ReloadEnv(folder) as env:
        env.session["job"].force_run = True
        [first] = env.runner.finished("job", timeout=20)
        mark = env.mark()
        save_atomically(helper, 'VALUE = "h2" +\n')
        assert env.failed(helper, mark).error.startswith("SyntaxError")
        assert env.failed(jobs, mark).error.startswith("SyntaxError")
        # The worker that ran the job dies; the next run starts a new one, which has
        # imported nothing yet.
        env.session["crash"].force_run = True
        [crashed] = env.runner.finished("crash", timeout=20)
        env.session["job"].force_run = True
        [_, again] = env.runner.finished("job", 2, timeout=20)
    assert crashed.outcome is Outcome.CRASH
    assert first.return_summary == again.return_summary == "'h1'"
    assert again.outcome is Outcome.SUCCESS
