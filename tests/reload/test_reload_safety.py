"""What must never take the scheduler down or slip through: modules that hang at import,
unsafe permissions, symlinks out of the folder, name clashes."""

from __future__ import annotations

import os
from pathlib import Path

import reload_gate
from reloadkit import ReloadEnv, module, save_atomically, write

from tui_sched.engine.events import ModuleFailed, ModuleLoaded

JOB = module('''
    @app.task()
    def job():
        return 1
''')


def test_a_module_that_sleeps_forever_at_import_does_not_stop_reloads_or_runs(
        tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder / "jobs.py", JOB)
    started = tmp_path / "hang-started"
    with ReloadEnv(folder, import_timeout=1.0) as env:
        mark = env.mark()
        hang = write(folder / "hang.py", f"import pathlib, time\n"
                     f"pathlib.Path({str(started)!r}).touch()\ntime.sleep(3600)\n")
        assert reload_gate.appeared(started)
        # The import hangs right now; scheduling goes on.
        env.session["job"].force_run = True
        env.runner.finished("job")
        other = write(folder / "other.py", JOB.replace("def job", "def other"))
        failure = env.failed(hang, mark)
        assert "did not finish within 1 s" in failure.error
        assert env.loaded(other, mark).added == ("other",)
        env.session["other"].force_run = True
        env.runner.finished("other")


def test_a_group_writable_module_is_refused_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder / "jobs.py", JOB)
    with ReloadEnv(folder) as env:
        mark = env.mark()
        risky = save_atomically(folder / "risky.py", JOB.replace("def job", "def risky"), 0o664)
        failure = env.failed(risky, mark)
        assert "writable by other users" in failure.error
        assert f"chmod go-w {risky}" in failure.error
        assert "risky" not in env.session
        mark = env.mark()
        risky.chmod(0o644)  # the fix, as the message says
        assert env.loaded(risky, mark).added == ("risky",)


def test_a_group_writable_subfolder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder / "jobs.py", JOB)
    with ReloadEnv(folder) as env:
        shared = folder / "shared"
        shared.mkdir(mode=0o755)
        shared.chmod(0o775)
        mark = env.mark()
        inner = write(shared / "inner.py", JOB.replace("def job", "def inner"))
        assert "chmod go-w" in env.failed(inner, mark).error


def test_a_symlink_that_leaves_the_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder / "jobs.py", JOB)
    outside = write(tmp_path / "elsewhere" / "evil.py", JOB.replace("def job", "def evil"))
    with ReloadEnv(folder) as env:
        mark = env.mark()
        link = folder / "evil.py"
        os.symlink(outside, link)
        assert "leaves" in env.failed(link, mark).error
        assert "evil" not in env.session


def test_a_name_clash_with_another_file_fails_the_later_file_until_the_name_is_free(
        tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    first = write(folder / "first.py", JOB)
    with ReloadEnv(folder) as env:
        env.session["job"].force_run = True
        env.runner.finished("job")
        mark = env.mark()
        second = write(folder / "second.py", JOB.replace("return 1", "return 2"))
        failure = env.failed(second, mark)
        assert "already exists" in failure.error and str(first.resolve()) in failure.error
        assert "name=" in failure.error
        assert env.session["job"].origin == str(first.resolve())
        # Freeing the name (removing it from first.py) lets second.py load: a move.
        mark = env.mark()
        write(first, module(""))
        moved = env.loaded(second, mark)
        assert moved.changed == ("job",) and not moved.added
        assert env.session["job"].origin == str(second.resolve())
        assert not [e for e in env.after(mark, ModuleLoaded) if e.removed]
        assert not env.after(mark, ModuleFailed)
