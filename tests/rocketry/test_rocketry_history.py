"""Issue 20 item 1: the run history as Rocketry exposes it (``task.logger``,
``session.get_repo()``, records on the task logger), from Rocketry's documented
examples with only the import changed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from harness import START, EngineRunner
from rocketry_docs import run_example

from tui_sched import App, Rocketry
from tui_sched.rocketry import ReadOnlyRepo
from tui_sched.store.base import Outcome
from tui_sched.store.sqlite import SqliteRunStore


@pytest.fixture
def task_logger() -> Iterator[logging.Logger]:
    """Rocketry's task logger, left as it was found."""
    logger = logging.getLogger("rocketry.task")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_task_logger_filter_by_reads_the_tasks_runs() -> None:
    # docs/handbooks/logging.rst, "Querying the Logger"
    app = Rocketry(state_dir=None)
    ns = run_example('''
        @app.task()
        def do_things():
            ...

        task_logger = app.session['do_things'].logger
        task_logger.filter_by(action="run").all()
    ''', app=app)
    assert ns["task_logger"].filter_by(action="run").all() == []
    with EngineRunner(app.session) as r:
        app.session["do_things"].force_run = True
        r.finished("do_things")
        r.advance(5)
        app.session["do_things"].force_run = True
        r.finished("do_things", count=2)
        runs = ns["task_logger"].filter_by(action="run").all()
        successes = app.session["do_things"].logger.filter_by(action="success").all()
    assert [rec.action for rec in runs] == ["run", "run"]
    assert [rec.task_name for rec in runs] == ["do_things", "do_things"]
    assert runs[0].created == START.timestamp()
    assert runs[1].created == START.timestamp() + 5
    first = successes[0]
    assert first["action"] == "success" and first.start == START
    assert first.end is not None and first.runtime == first.end - first.start
    assert first.message == "Task 'do_things' status: 'success'"


def test_a_thread_task_reads_another_tasks_logs_through_the_session() -> None:
    # docs/tutorial/advanced.rst, "Access Task Logs"
    app = Rocketry(state_dir=None)
    run_example('''
        @app.task()
        def do_things():
            ...
    ''', app=app)
    ns = run_example('''
        from rocketry.args import Session

        @app.task(execution="thread")
        def read_logs(session=Session()):
            task = session['do_things']

            run_logs = task.logger.filter_by(action="run").all()
            success_logs = task.logger.filter_by(action="success").all()
            fail_logs = task.logger.filter_by(action="fail").all()
            ...
    ''', app=app)
    seen: dict[str, int] = {}

    def counted(session=ns["Session"]()) -> dict[str, int]:  # the example, with results
        task = session["do_things"]
        for action in ("run", "success", "fail"):
            seen[action] = len(task.logger.filter_by(action=action).all())
        return seen

    app.task(execution="main", func=counted)
    with EngineRunner(app.session) as r:
        app.session["do_things"].force_run = True
        r.finished("do_things")
        app.session["read_logs"].force_run = True
        [read] = r.finished("read_logs")
        app.session["counted"].force_run = True  # on the engine thread itself
        r.finished("counted")
    assert read.outcome is Outcome.SUCCESS, read.error
    assert seen == {"run": 1, "success": 1, "fail": 0}


def test_a_failure_reaches_handlers_of_the_task_logger_with_its_traceback(
        task_logger: logging.Logger) -> None:
    # docs/cookbook/robust_applications.rst, "Alerting": a handler on rocketry.task at
    # ERROR level gets failures with record.task_name and record.exc_text.
    app = Rocketry(state_dir=None)
    got: list[logging.LogRecord] = []

    class Alert(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            got.append(record)

    handler = Alert()
    handler.setLevel(logging.ERROR)
    logging.getLogger("rocketry.task").addHandler(handler)

    @app.task("daily", execution="main")
    def breaks() -> None:
        raise ValueError("no data")

    with EngineRunner(app.session) as r:
        r.finished("breaks")
    [record] = got
    assert record.task_name == "breaks" and record.action == "fail"  # type: ignore[attr-defined]
    assert "ValueError: no data" in record.exc_text  # type: ignore[operator]
    assert "ValueError: no data" in handler.format(record)
    assert record.created == START.timestamp()


def test_a_stream_handler_on_the_task_logger_prints_every_action(
        task_logger: logging.Logger, capsys: pytest.CaptureFixture[str]) -> None:
    # docs/tutorial/intermediate.rst, "Add Another Log Handlers"
    ns = run_example('''
        import logging
        from rocketry import Rocketry

        app = Rocketry()

        # Create a handler
        handler = logging.StreamHandler()
        handler.setLevel(logging.DEBUG)

        # Add the handler
        task_logger = logging.getLogger('rocketry.task')
        task_logger.addHandler(handler)
    ''')
    app = ns["app"]

    @app.task("daily", execution="main")
    def do_things() -> None:
        pass

    with EngineRunner(app.session) as r:
        r.finished("do_things")
    err = capsys.readouterr().err
    assert "Task 'do_things' status: 'run'" in err
    assert "Task 'do_things' status: 'success'" in err


def test_an_app_logs_failures_on_tui_scheds_task_logger_and_every_run_at_info() -> None:
    app = App(state_dir=None)
    got: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            got.append(f"{record.task_name} {record.action}")  # type: ignore[attr-defined]

    logger = logging.getLogger("tui_sched.task")
    handler = Keep()
    logger.addHandler(handler)
    level = logger.level
    try:
        @app.task(execution="main")
        def work() -> None:
            pass

        @app.task(execution="main")
        def breaks() -> None:
            raise ValueError("no")

        with EngineRunner(app.session) as r:
            app.session["work"].force_run = True
            app.session["breaks"].force_run = True
            r.finished("work")
            r.finished("breaks")
            assert got == ["breaks fail"]  # by default (WARNING): failures only
            logger.setLevel(logging.INFO)
            app.session["work"].force_run = True
            r.finished("work", count=2)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert got == ["breaks fail", "work run", "work success"]


def test_get_repo_filters_every_tasks_records_and_is_read_only() -> None:
    # docs/code/demos/fast_api/api.py: repo = session.get_repo(); repo.filter_by(**filter).all()
    app = Rocketry(state_dir=None)

    @app.task("daily", execution="main")
    def ok() -> None:
        pass

    @app.task("daily", execution="main")
    def bad() -> None:
        raise RuntimeError("boom")

    with EngineRunner(app.session) as r:
        r.finished("ok")
        r.finished("bad")
        repo = app.session.get_repo()
        everything = repo.filter_by().all()
        fails = repo.filter_by(task_name="bad", action="fail").all()
    assert sorted((rec.task_name, rec.action) for rec in everything) == [
        ("bad", "fail"), ("bad", "run"), ("ok", "run"), ("ok", "success")]
    [fail] = fails
    assert fail.message.startswith("Task 'bad' status: 'fail'") and "boom" in fail.message
    assert fail.runtime == timedelta(0)
    with pytest.raises(ReadOnlyRepo, match="read-only"):
        repo.add(fail)
    with pytest.raises(ReadOnlyRepo, match="read-only"):
        repo.filter_by(task_name="bad").delete()
    with pytest.raises(KeyError, match=r"no field tsk_name; they have: .*task_name"):
        repo.filter_by(tsk_name="bad")


def test_the_history_stays_readable_after_the_scheduler_stopped(tmp_path: Path) -> None:
    app = Rocketry(state_dir=None)

    @app.task("daily", execution="main")
    def do_things() -> None:
        pass

    store = SqliteRunStore(tmp_path / "history.sqlite3")
    with EngineRunner(app.session, store=store) as r:
        r.finished("do_things")
    store.close()
    app.session.rocketry_link().history_file = tmp_path / "history.sqlite3"
    actions = [rec.action for rec in app.session["do_things"].logger.filter_by().all()]
    assert actions == ["run", "success"]


def test_multilaunch_runs_are_told_apart_by_run_id() -> None:
    # docs/handbooks/task/execution.rst ("There is also a run_id passed to logs")
    ns = run_example('''
        from rocketry import Rocketry
        from rocketry.log import MinimalRunRecord

        app = Rocketry(config={'multilaunch': True})

        # Setting the log record model
        repo = app.session.get_repo()
        repo.model = MinimalRunRecord

        @app.task(multilaunch=True)
        def do_things():
            ...
    ''')
    app = ns["app"]
    with EngineRunner(app.session) as r:
        app.session["do_things"].run()
        app.session["do_things"].run()
        r.finished("do_things", count=2)
        records = ns["repo"].filter_by(task_name="do_things").all()
    runs = [rec.run_id for rec in records if rec.action == "run"]
    ends = [rec.run_id for rec in records if rec.action == "success"]
    assert len(set(runs)) == 2 and sorted(runs) == sorted(ends)
