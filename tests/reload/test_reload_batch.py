"""A burst of changes (``git checkout``, a formatter over the tree) is one reload pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from reloadkit import ReloadEnv, module, write

from tui_sched.engine.events import ModuleFailed, ModuleLoaded


def body(i: int, version: int) -> str:
    return module(f'''
        @app.task("every {version} hours")
        def task_{i:03d}():
            return {version}
    ''')


@pytest.mark.slow
def test_one_hundred_files_changed_at_once_reload_in_one_batch(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    files = [write(folder / f"mod_{i:03d}.py", body(i, 1)) for i in range(100)]
    with ReloadEnv(folder, step_ms=200) as env:
        assert len(env.session) == 100
        # Stage the new versions under ignored names, then swap them all in, as a
        # checkout does.
        staged = [write(folder / f".{p.name}.new", body(i, 2)) for i, p in enumerate(files)]
        mark = env.mark()
        for tmp, path in zip(staged, files, strict=True):
            os.replace(tmp, path)
        batch = env.wait_batch(mark)
        assert batch.loaded == 100 and batch.failed == 0
        assert len(batch.files) == 100
        loaded = env.after(mark, ModuleLoaded)
        assert len(loaded) == 100 and all(len(e.changed) == 1 for e in loaded)
        assert not env.after(mark, ModuleFailed)
        # Nothing else follows from that burst: the next change is the next pass.
        sentinel = write(folder / "sentinel.py", module(""))
        env.loaded(sentinel, mark)
        assert [b.files for b in env.batches(mark)][1:] == [(str(sentinel.resolve()),)]
        assert env.reloader.batches == batch.batch + 1
        env.runner.sync()
        assert {t.condition_text for t in env.session.tasks} == {"every 2 hours"}
