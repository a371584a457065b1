"""Every snippet of the seed document (advanced-tutorial.rst), verbatim except the
import line, run for real: modules in a folder, loaded by the loader, on the engine."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from harness import START

from tui_sched.engine.bus import EventBus
from tui_sched.engine.clock import FakeClock
from tui_sched.engine.events import Event, RunFinished
from tui_sched.engine.host import EngineHost
from tui_sched.reload.loader import load_folder
from tui_sched.store.base import Outcome
from tui_sched.store.sqlite import SqliteRunStore

HEADER = "from tui_sched import App\n\napp = App()\n\n"

TASK_TYPES = '''
@app.task('daily')
def do_things():
    ...

def run_things():
    ...

app.task('daily', func=run_things)

app.task('daily', func_name="main", path="path/to/example.py")

app.task('daily', command='echo "Hello world"')

app.task('daily', code='print("Hello world")')
'''

METATASKS = '''
from tui_sched.args import Session

@app.task(execution="thread")
def do_shutdown(session=Session()):
    session.shutdown()

@app.task(execution="thread")
def do_restart(session=Session()):
    session.restart()

@app.task(execution="thread")
def do_modify_tasks(session=Session()):

    task = session['do_restart']
    task.force_run = True

    for task in session.tasks:
        task.disable = True
'''


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.cond = threading.Condition()

    def __call__(self, e: Event) -> None:
        with self.cond:
            self.events.append(e)
            self.cond.notify_all()

    def finished(self, task: str, count: int = 1) -> list:
        def runs() -> list:
            return [e.run for e in self.events if isinstance(e, RunFinished) and e.run.task == task]

        with self.cond:
            assert self.cond.wait_for(lambda: len(runs()) >= count, 15), self.events[-5:]
            return runs()


def next_engine(host: EngineHost, first: object) -> object:
    """Wait until ``first`` has stopped and the host runs the engine that replaced it."""
    assert first.done.wait(15)  # type: ignore[attr-defined]
    with host.engine_changed:
        assert host.engine_changed.wait_for(lambda: host.engine is not first, 15)
    return host.wait_engine(10)


def make_host(folder: Path, tmp: Path) -> tuple[EngineHost, Recorder]:
    bus = EventBus()
    rec = Recorder()
    bus.subscribe(rec)

    def build():  # type: ignore[no-untyped-def]
        report = load_folder(folder)
        assert not report.errors, [str(e) for e in report.errors]
        return report.session, SqliteRunStore(tmp / "state" / "history.sqlite3")

    return EngineHost(build, bus=bus, clock=FakeClock(START)), rec


def test_task_types_snippet_runs_every_kind(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    (folder / "path" / "to").mkdir(parents=True)
    (folder / "seed_types.py").write_text(HEADER + TASK_TYPES)
    (folder / "path" / "to" / "example.py").write_text("def main():\n    print('lazy main ran')\n")
    host, rec = make_host(folder, tmp_path)
    host.start()
    engine = host.wait_engine(10)
    assert engine is not None
    names = sorted(t.name for t in engine.session.tasks)
    assert names == sorted([
        "do_things", "run_things", "path/to/example.py:main",
        'echo "Hello world"', engine.session.tasks[-1].name,
    ])
    assert engine.session.tasks[-1].name.startswith("code-")
    for name in names:
        [run] = rec.finished(name)
        assert run.outcome is Outcome.SUCCESS, (name, run.error)
    outputs = {e.run.task: e.run.output_tail for e in rec.events if isinstance(e, RunFinished)}
    assert outputs['echo "Hello world"'] == "Hello world\n"
    assert outputs[engine.session.tasks[-1].name] == "Hello world\n"
    assert outputs["path/to/example.py:main"] == "lazy main ran\n"
    host.shutdown()
    assert host.join(15)


def test_do_shutdown_stops_the_session(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "meta.py").write_text(HEADER + METATASKS)
    host, rec = make_host(folder, tmp_path)
    host.start()
    engine = host.wait_engine(10)
    assert engine is not None
    engine.session["do_shutdown"].force_run = True
    [run] = rec.finished("do_shutdown")
    assert run.outcome is Outcome.SUCCESS
    assert host.join(15)
    assert host.restarts == 0


def test_do_restart_restarts_in_process_and_reloads_modules(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "meta.py").write_text(HEADER + METATASKS)
    host, rec = make_host(folder, tmp_path)
    host.start()
    first = host.wait_engine(10)
    assert first is not None
    # A module added while running appears after the restart: modules are reloaded.
    (folder / "extra.py").write_text(HEADER + "@app.task()\ndef extra():\n    return 'x'\n")
    first.session.run_task("do_restart")
    rec.finished("do_restart")
    second = next_engine(host, first)
    assert second is not None and second is not first
    assert host.restarts == 1
    assert "extra" in second.session
    second.session.run_task("extra")
    rec.finished("extra")
    host.shutdown()
    assert host.join(15)


def test_do_modify_tasks_forces_restart_and_disables_every_task(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "meta.py").write_text(HEADER + METATASKS)
    host, rec = make_host(folder, tmp_path)
    host.start()
    first = host.wait_engine(10)
    assert first is not None
    first.session["do_modify_tasks"].force_run = True
    rec.finished("do_modify_tasks")
    assert all(t.disabled for t in first.session.tasks)
    # do_restart was forced: it runs (despite being disabled) and restarts the session.
    [restart_run] = rec.finished("do_restart")
    assert restart_run.trigger == "forced"
    second = next_engine(host, first)
    assert second is not None
    # The disabled flags were persisted: they survive the restart and the reload.
    assert sorted(t.name for t in second.session.tasks if t.disabled) == [
        "do_modify_tasks", "do_restart", "do_shutdown"]
    host.shutdown()
    assert host.join(15)


def test_a_task_module_runs_headless_on_its_own(tmp_path: Path) -> None:
    script = tmp_path / "standalone.py"
    script.write_text(HEADER.replace("App()", "App(shutdown_timeout=5)") + textwrap.dedent('''
        from tui_sched.args import Session

        @app.task("every 1 second", execution="main")
        def hello():
            print("hello")

        @app.task("after task 'hello'", execution="thread")
        def stop(session=Session()):
            session.shutdown()

        if __name__ == "__main__":
            app.run()
    '''))
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "hello | hello" in proc.stdout
    assert "scheduler stopped" in proc.stdout
    store = SqliteRunStore(tmp_path / ".tui-sched" / "history.sqlite3")
    outcomes = {r.task: r.outcome for r in store.history()}
    store.close()
    assert outcomes == {"hello": Outcome.SUCCESS, "stop": Outcome.SUCCESS}
