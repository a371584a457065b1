"""How files come and go: editors' save strategies, deletes, new files and folders, and
a tasks folder that is missing or disappears."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from reloadkit import ReloadEnv, module, save_atomically, write

from tui_sched.engine.events import ModuleFailed, ModuleLoaded
from tui_sched.reload import WatchStatus

JOB = module('''
    @app.task("every 1 hour")
    def job():
        return 1
''')


def test_atomic_rename_save_reloads_and_editor_temp_files_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    jobs = write(folder / "jobs.py", JOB)
    with ReloadEnv(folder) as env:
        mark = env.mark()
        # What editors leave around: none of it is a module.
        for junk in ("4913", "jobs.py~", ".#jobs.py", ".jobs.py.swp", "#jobs.py#",
                     "notes.txt", ".hidden.py"):
            write(folder / junk, "this is not python(\n")
        write(folder / "__pycache__" / "stale.py", "this is not python(\n")
        save_atomically(jobs, JOB.replace("every 1 hour", "every 2 hours"))
        assert env.loaded(jobs, mark).changed == ("job",)
        [batch] = env.batches(mark)
        assert batch.files == (str(jobs.resolve()),)
        assert not env.after(mark, ModuleFailed)
        assert env.session["job"].condition_text == "every 2 hours"


def test_delete_then_recreate_removes_and_restores_keeping_the_disabled_flag(
        tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    jobs = write(folder / "jobs.py", JOB)
    with ReloadEnv(folder) as env:
        env.runner.finished("job")
        env.session["job"].disabled = True
        env.runner.sync()
        mark = env.mark()
        jobs.unlink()
        assert env.loaded(jobs, mark).removed == ("job",)
        assert "job" not in env.session
        mark = env.mark()
        write(jobs, JOB)
        assert env.loaded(jobs, mark).added == ("job",)
        env.runner.sync()  # the engine applies the persisted flag
        assert env.session["job"].disabled is True
        assert len(env.runner.store.history("job")) == 1


def test_delete_and_create_in_one_save_is_a_change(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    jobs = write(folder / "jobs.py", JOB)
    with ReloadEnv(folder, step_ms=200) as env:
        mark = env.mark()
        jobs.unlink()
        write(jobs, JOB.replace("return 1", "return 2"))
        loaded = env.loaded(jobs, mark)
        assert loaded.changed == ("job",) and not loaded.removed


def test_new_file_and_new_subfolder_are_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder / "jobs.py", JOB)
    with ReloadEnv(folder) as env:
        mark = env.mark()
        fresh = write(folder / "fresh.py", JOB.replace("def job", "def fresh"))
        assert env.loaded(fresh, mark).added == ("fresh",)
        mark = env.mark()
        nested = write(folder / "team" / "nightly" / "nested.py", JOB.replace("def job", "def nested"))
        assert env.loaded(nested, mark).added == ("nested",)
        # A folder moved in (as a checkout or an unpacked archive does) comes with its modules.
        staging = tmp_path / "staging"
        write(staging / "a.py", JOB.replace("def job", "def moved_a"))
        write(staging / "deep" / "b.py", JOB.replace("def job", "def moved_b"))
        mark = env.mark()
        os.rename(staging, folder / "moved")
        env.loaded(folder / "moved" / "a.py", mark, added=("moved_a",))
        env.loaded(folder / "moved" / "deep" / "b.py", mark, added=("moved_b",))
        # ... and moved out, its modules go.
        mark = env.mark()
        os.rename(folder / "moved", tmp_path / "gone")
        env.loaded(folder / "moved" / "a.py", mark, removed=("moved_a",))
        env.loaded(folder / "moved" / "deep" / "b.py", mark, removed=("moved_b",))
        assert sorted(t.name for t in env.session.tasks) == ["fresh", "job", "nested"]
        env.runner.finished("nested")


def test_missing_folder_is_reported_then_loaded_when_it_appears(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    env = ReloadEnv(folder)
    assert env.reloader.last_report is not None
    assert "does not exist" in str(env.reloader.last_report.errors[0])
    with env:
        missing = env.wait(WatchStatus, lambda e: e.state == "missing")
        assert str(folder) in missing.message
        mark = env.mark()
        jobs = write(folder / "jobs.py", JOB)
        env.wait(WatchStatus, lambda e: e.state == "watching", since=mark)
        assert env.loaded(jobs, mark).added == ("job",)
        env.runner.finished("job")


def test_a_folder_that_disappears_keeps_its_tasks_until_it_is_back(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    jobs = write(folder / "jobs.py", JOB)
    with ReloadEnv(folder) as env:
        mark = env.mark()
        shutil.rmtree(folder)
        env.wait(WatchStatus, lambda e: e.state == "missing", since=mark)
        assert "job" in env.session  # nothing is unloaded while the folder is away
        assert not env.after(mark, ModuleLoaded)
        mark = env.mark()
        other = write(folder / "other.py", JOB.replace("def job", "def other"))
        env.wait(WatchStatus, lambda e: e.state == "watching", since=mark)
        assert env.loaded(other, mark).added == ("other",)
        assert env.loaded(jobs, mark).removed == ("job",)  # it did not come back
        assert [t.name for t in env.session.tasks] == ["other"]


def test_polling_fallback_sees_every_save_even_two_within_a_second(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    jobs = write(folder / "jobs.py", JOB)
    with ReloadEnv(folder, force_polling=True, poll_delay_ms=20) as env:
        for version in (2, 3):  # same size, well within one second of each other
            mark = env.mark()
            write(jobs, JOB.replace("return 1", f"return {version}"))
            assert env.loaded(jobs, mark).changed == ("job",)
        mark = env.mark()
        fresh = write(folder / "sub" / "fresh.py", JOB.replace("def job", "def fresh"))
        jobs.unlink()
        env.loaded(fresh, mark, added=("fresh",))
        env.loaded(jobs, mark, removed=("job",))
        env.session["fresh"].force_run = True
        # Its condition may run it before the forced run: every run counts the same.
        runs = env.runner.finished("fresh")
        assert runs and all(run.return_summary == "1" for run in runs)
