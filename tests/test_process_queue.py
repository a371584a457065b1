"""A ``process`` run that waits for a worker slot (issue 17, item 4).

Terminating such a run ends it at once as ``terminate``: it never reaches a worker, and
the run that holds the only worker is not disturbed.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from harness import EngineRunner

from tui_sched import App
from tui_sched.engine.events import LogLine, RunStarted
from tui_sched.store.base import Outcome
from tui_sched.tasks.modules import load_file

MODULE = textwrap.dedent('''
    import os
    import time
    from pathlib import Path

    def hold(release):
        print("holding", os.getpid(), flush=True)
        while not Path(release).exists():  # until the test lets it go
            time.sleep(0.01)
        return os.getpid()

    def mark(path):
        Path(path).write_text(str(os.getpid()))
        return "ran"
''')


def test_terminating_a_queued_process_run_ends_it_at_once_without_a_worker(
        tmp_path: Path) -> None:
    module_file = tmp_path / "queue_tasks.py"
    module_file.write_text(MODULE)
    mod = load_file(module_file)
    release, marker = tmp_path / "release", tmp_path / "marker"
    app = App(state_dir=None)
    app.task(func=mod.hold, execution="process", name="hold",
             parameters={"release": str(release)}, force_run=True)
    queued = app.task(func=mod.mark, execution="process", name="queued",
                      parameters={"path": str(marker)})
    with EngineRunner(app.session, process_workers=1, termination_grace=0.5) as r:
        [line] = r.wait_for(lambda e: isinstance(e, LogLine) and e.task == "hold"
                            and e.text.startswith("holding"))
        assert isinstance(line, LogLine)
        queued.force_run = True
        r.wait_for(lambda e: isinstance(e, RunStarted) and e.run.task == "queued")
        r.engine.terminate("queued")
        # The only worker is still busy with `hold`: the queued run ends anyway.
        [stopped] = r.finished("queued", timeout=10)
        assert not r.finishes("hold")
        release.touch()
        [held] = r.finished("hold")
        assert not marker.exists()  # the terminated run never reached a worker
        # The pool is intact: the next run of the same task gets the same warm worker.
        queued.force_run = True
        [_, again] = r.finished("queued", 2)
    assert stopped.outcome is Outcome.TERMINATE
    assert stopped.error == "terminated by the operator"
    assert held.outcome is Outcome.SUCCESS, held.error
    assert held.return_summary == line.text.split()[1]  # never killed nor replaced
    assert again.outcome is Outcome.SUCCESS, again.error
    assert marker.read_text() == held.return_summary  # the same warm worker
