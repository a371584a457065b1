"""Issue 20 item 10: ``permanent`` / ``on_startup`` / ``on_shutdown`` tasks,
``func_run_id`` (refused), ``app.serve()`` and ``Grouper`` with prefixes, from
Rocketry's documented examples with only the import changed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from harness import EngineRunner
from rocketry_docs import run_example

from tui_sched import Rocketry
from tui_sched.errors import TaskDefinitionError
from tui_sched.store.base import Outcome


def test_a_permanent_task_starts_with_the_scheduler_and_is_told_to_stop_at_shutdown() -> None:
    # docs/handbooks/task/observer.rst (the thread variant): its TerminationFlag is set
    # as the scheduler shuts down, not after the shutdown timeout.
    app = Rocketry(state_dir=None)
    run_example('''
        from rocketry.args import TerminationFlag
        from rocketry.exc import TaskTerminationException

        @app.task(permanent=True)
        def monitor(flag=TerminationFlag()):
            while not flag.is_set():
                flag.wait(0.01)
            raise TaskTerminationException()
    ''', app=app)
    r = EngineRunner(app.session, shutdown_timeout=60)
    with r:
        r.wait_for(
            lambda e: getattr(getattr(e, "run", None), "task", None) == "monitor")
        started = time.monotonic()
    [run] = r.finishes("monitor")
    assert run.trigger == "forced" and run.outcome is Outcome.TERMINATE
    assert time.monotonic() - started < 30  # well before the 60 s shutdown timeout


def test_a_startup_task_runs_first_and_queues_other_tasks() -> None:
    # docs/cookbook/controlling_runtime.rst, "Task Queue" (sleeping 0.01 s, not 5 s)
    app = Rocketry(state_dir=None)
    run_example('''
        @app.task()
        def do_things():
            ...

        @app.task()
        def do_report(report_date):
            return report_date
    ''', app=app)
    run_example('''
        from rocketry.args import Session
        import asyncio

        def next_task():
            "Get next task from the queue"
            yield 'do_things', {}
            yield 'do_report', {'report_date': '2022-01-01'}

        @app.task(on_startup=True, execution="async")
        async def task_queue(session=Session()):
            queue = next_task()
            for task_name, params in queue:
                task = app.session[task_name]
                task.run(**params)

                # Wait till finish
                while task.is_running:
                    await asyncio.sleep(0.01)
    ''', app=app)

    @app.task("daily", execution="main")
    def ordinary() -> None: ...

    with EngineRunner(app.session) as r:
        [queue] = r.finished("task_queue")
        [report] = r.finished("do_report")
        r.finished("do_things")
        r.finished("ordinary")
        first = r.starts("task_queue")[0].id < r.starts("ordinary")[0].id
    assert queue.outcome is Outcome.SUCCESS, queue.error
    assert report.return_summary == "'2022-01-01'"
    assert first


def test_a_shutdown_task_runs_when_the_scheduler_stops() -> None:
    app = Rocketry(state_dir=None)
    ran: list[str] = []

    @app.task(on_shutdown=True)
    def say_goodbye() -> None:
        ran.append("bye")

    with EngineRunner(app.session):
        assert ran == []
    assert ran == ["bye"]


@pytest.mark.parametrize(("options", "says"), [
    ({"on_startup": True, "start_cond": "daily"}, "takes no start condition"),
    ({"on_startup": True, "permanent": True}, "not on_startup and permanent"),
    ({"func_run_id": lambda task, params: "x", "multilaunch": True}, "identified by their id"),
])
def test_kinds_that_cannot_be_are_refused(options: dict[str, object], says: str) -> None:
    app = Rocketry(state_dir=None)
    start_cond = options.pop("start_cond", None)
    with pytest.raises(TaskDefinitionError, match=says):
        app.task(start_cond, func=print, **options)


def test_grouper_prefixes_its_tasks_and_adds_its_condition() -> None:
    # docs/cookbook/bigger_applications.rst (app/tasks/evening.py, app/main.py)
    ns = run_example('''
        from rocketry import Grouper

        group = Grouper(prefix="evening.", start_cond="time of day after 18:00", execution="main")

        @group.task("daily")
        def do_things():
            ...

        @group.task(execution="thread")
        def do_stuff():
            ...
    ''')
    app = Rocketry(state_dir=None)
    app.include_grouper(ns["group"])
    things, stuff = app.session["evening.do_things"], app.session[ns["do_stuff"]]
    assert things.condition_text == "daily & time of day after 18:00"
    assert things.execution == "main"
    assert stuff.name == "evening.do_stuff" and stuff.execution == "thread"
    assert stuff.condition_text == "time of day after 18:00"
    with pytest.raises(TaskDefinitionError, match="included already"):
        Rocketry(state_dir=None).include_grouper(ns["group"])


@pytest.mark.slow
def test_app_serve_runs_next_to_other_coroutines(tmp_path: Path) -> None:
    # docs/cookbook/fastapi.rst's main(), with a stand-in for the uvicorn server
    (tmp_path / "main.py").write_text(textwrap.dedent('''
        import asyncio
        import threading
        from tui_sched import Rocketry

        app_rocketry = Rocketry(execution="async")
        did = threading.Event()

        @app_rocketry.task("every 10 seconds")
        async def do_things():
            print("did things", flush=True)
            did.set()

        class Server:
            "Stands in for uvicorn.Server: serves until things were done, then exits"
            async def serve(self):
                assert await asyncio.to_thread(did.wait, 30)
                app_rocketry.session.shut_down()

        async def main():
            "Run scheduler and the API"
            server = Server()

            api = asyncio.create_task(server.serve())
            sched = asyncio.create_task(app_rocketry.serve())

            await asyncio.wait([sched, api])

        if __name__ == "__main__":
            asyncio.run(main())
            print("both stopped")
    '''))
    out = subprocess.run([sys.executable, "main.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "did things" in out.stdout and out.stdout.strip().endswith("both stopped")
