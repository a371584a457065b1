"""The last good version of a module holds in every execution mode (issue 17, item 3):
a ``process`` worker runs the source the loader accepted, not what the file holds now."""

from __future__ import annotations

from pathlib import Path

import pytest
from reloadkit import ReloadEnv, module, save_atomically, write

from tui_sched.engine.events import ModuleFailed
from tui_sched.store.base import Outcome


@pytest.mark.parametrize("execution", ["thread", "process"])
def test_a_syntax_error_keeps_the_last_good_version_running(
        tmp_path: Path, execution: str) -> None:
    folder = tmp_path / "tasks"
    jobs = write(folder / "jobs.py", module(f'''
        @app.task(execution={execution!r})
        def job():
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
