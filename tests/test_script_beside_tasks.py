"""A script run beside the modules its tasks load (``python main.py`` with
``path="jobs.py"``) stays the running script: loading a task module afresh forgets the
folder's helper modules, but never ``__main__`` (found while testing dask, whose local
cluster, like anything started with multiprocessing's spawn, needs it)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

MAIN = textwrap.dedent('''
    import multiprocessing
    from tui_sched import App
    from tui_sched.args import Session

    app = App(state_dir=None)
    app.task("true", func_name="job", path="jobs.py", execution="main", name="job")

    @app.task("after task 'job'", execution="main")
    def stop(session=Session()):
        session.shut_down()

    def child():
        pass

    if __name__ == "__main__":
        app.run()
        p = multiprocessing.get_context("spawn").Process(target=child)
        p.start()
        p.join()
        print("spawned child exited with", p.exitcode)
''')


def test_a_script_beside_its_task_modules_can_still_spawn_after_they_load(
        tmp_path: Path) -> None:
    (tmp_path / "jobs.py").write_text("def job():\n    print('job ran')\n")
    (tmp_path / "main.py").write_text(MAIN)
    out = subprocess.run([sys.executable, "main.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert "job ran" in out.stdout
    assert "spawned child exited with 0" in out.stdout, out.stderr[-2000:]
    assert out.returncode == 0
