"""Editing modules while the scheduler runs: conditions, syntax errors, helpers, moves."""

from __future__ import annotations

import sys
from pathlib import Path

from reloadkit import ReloadEnv, module, write

from tui_sched.engine.events import ModuleLoaded
from tui_sched.reload import ReloadWarning
from tui_sched.store.base import Outcome

HOURLY = module('''
    @app.task("every 1 hour")
    def a():
        return "v1"

    @app.task("every 1 hour")
    def b():
        return "v1"
''')
TEN_MINUTES = HOURLY.replace("every 1 hour", "every 10 minutes")


def test_edit_condition_runs_on_the_new_condition_keeping_history_and_disabled(
        tmp_path: Path) -> None:
    jobs = write(tmp_path / "tasks" / "jobs.py", HOURLY)
    with ReloadEnv(tmp_path / "tasks") as env:
        env.runner.finished("a")
        env.runner.finished("b")
        env.session["b"].disabled = True  # the operator's word, persisted
        env.runner.sync()
        mark = env.mark()
        write(jobs, TEN_MINUTES)
        loaded = env.loaded(jobs, mark)
        assert set(loaded.changed) == {"a", "b"} and not loaded.added and not loaded.removed
        env.runner.sync()
        assert env.session["a"].condition_text == "every 10 minutes"
        assert env.session["b"].disabled is True
        env.runner.advance(601)  # the old condition ("every 1 hour") would not fire yet
        runs = env.runner.finished("a", count=2)
        assert [r.outcome for r in runs] == [Outcome.SUCCESS, Outcome.SUCCESS]
        assert len(env.runner.store.history("a")) == 2  # history is kept (by name)
        assert len(env.runner.starts("b")) == 1  # still disabled after the reload
        assert env.runner.store.get_flags() == {"b": True}


def test_syntax_error_keeps_the_old_tasks_running_then_the_fix_recovers(tmp_path: Path) -> None:
    jobs = write(tmp_path / "tasks" / "jobs.py", TEN_MINUTES)
    with ReloadEnv(tmp_path / "tasks") as env:
        env.runner.finished("a")
        mark = env.mark()
        broken = TEN_MINUTES + "\n\ndef oops(:\n    pass\n"
        write(jobs, broken)
        failure = env.failed(jobs, mark)
        assert failure.line == broken.count("\n", 0, broken.index("def oops(")) + 1
        assert "SyntaxError" in failure.error and failure.traceback
        assert not env.after(mark, ModuleLoaded)
        env.runner.advance(601)  # the last good version keeps running
        env.runner.finished("a", count=2)
        mark = env.mark()
        write(jobs, TEN_MINUTES + '\n@app.task("every 1 hour")\ndef c():\n    return "new"\n')
        assert env.loaded(jobs, mark).added == ("c",)
        [run] = env.runner.finished("c")
        assert run.outcome is Outcome.SUCCESS


def test_failing_module_reports_file_line_and_traceback(tmp_path: Path) -> None:
    jobs = write(tmp_path / "tasks" / "jobs.py", TEN_MINUTES)
    with ReloadEnv(tmp_path / "tasks") as env:
        cases = {
            "raise RuntimeError('at import')\n": ("RuntimeError: at import", True),
            "import no_such_module_here\n": ("ModuleNotFoundError", True),
            "app.task('every 3 parsecs', command='true')\n": ("invalid condition", True),
            "app.task('daily', command='true', execution='proces')\n": ("execution", True),
        }
        for tail, (expected, has_line) in cases.items():
            mark = env.mark()
            write(jobs, TEN_MINUTES + tail)
            failure = env.failed(jobs, mark)
            assert expected in failure.error, failure.error
            assert (failure.line == TEN_MINUTES.count("\n") + 1) is has_line, failure
        assert sorted(t.name for t in env.session.tasks) == ["a", "b"]


def test_editing_a_helper_reloads_the_modules_that_import_it(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    helper = write(folder / "helpers.py", "VALUE = 'one'\n")
    write(folder / "jobs.py", module('''
        from helpers import VALUE

        @app.task()
        def show():
            return VALUE
    '''))
    with ReloadEnv(folder) as env:
        env.session["show"].force_run = True
        [first] = env.runner.finished("show")
        assert first.return_summary == "'one'"
        mark = env.mark()
        write(helper, "VALUE = 'two'\n")
        env.loaded(folder / "jobs.py", mark)  # reloaded although it did not change
        env.runner.sync()
        env.session["show"].force_run = True
        second = env.runner.finished("show", count=2)[-1]
        assert second.return_summary == "'two'"


def test_a_task_moved_between_files_in_one_batch_is_a_change(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    one = write(folder / "one.py", module('''
        @app.task("every 1 hour")
        def mover():
            return 1
    '''))
    two = write(folder / "two.py", module('''
        @app.task("every 1 hour")
        def stay():
            return 2
    '''))
    with ReloadEnv(folder, watch=False) as env:
        env.runner.finished("mover")
        env.session["mover"].disabled = True
        env.runner.sync()
        write(one, module(""))
        write(two, two.read_text() + "\n@app.task('every 2 hours')\ndef mover():\n    return 3\n")
        mark = env.mark()
        assert env.reloader.reload([one, two]) == 1
        by_path = {e.path: e for e in env.after(mark, ModuleLoaded)}
        assert by_path[str(one.resolve())] == ModuleLoaded(
            by_path[str(one.resolve())].at, str(one.resolve()), (), (), ())
        assert by_path[str(two.resolve())].changed == ("mover",)
        assert not by_path[str(two.resolve())].added
        env.runner.sync()
        task = env.session["mover"]
        assert task.origin == str(two.resolve()) and task.condition_text == "every 2 hours"
        assert task.disabled is True
        assert len(env.runner.store.history("mover")) == 1


def test_a_condition_naming_an_unknown_task_loads_with_a_warning(tmp_path: Path) -> None:
    jobs = write(tmp_path / "tasks" / "jobs.py", TEN_MINUTES)
    with ReloadEnv(tmp_path / "tasks") as env:
        mark = env.mark()
        write(jobs, TEN_MINUTES + "\n@app.task(\"after task 'aa'\")\ndef follower():\n    pass\n")
        assert env.loaded(jobs, mark).added == ("follower",)
        warning = env.wait(ReloadWarning, since=mark)
        assert "'aa'" in warning.message and "did you mean 'a'" in warning.message.lower()


def test_replaced_module_versions_are_released(tmp_path: Path) -> None:
    jobs = write(tmp_path / "tasks" / "jobs.py", TEN_MINUTES)
    with ReloadEnv(tmp_path / "tasks") as env:
        def versions() -> list[str]:
            return [n for n, m in list(sys.modules.items())
                    if getattr(m, "__file__", None) == str(jobs.resolve())]

        assert len(versions()) == 1
        for i in range(3):
            mark = env.mark()
            write(jobs, TEN_MINUTES + f"\nVERSION = {i}\n")
            env.loaded(jobs, mark)
        assert len(versions()) == 1
        mark = env.mark()
        jobs.unlink()
        env.loaded(jobs, mark)
        assert versions() == []
