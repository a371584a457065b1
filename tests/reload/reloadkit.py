"""Helpers for the hot-reload tests: real files in a temporary folder, the real watcher,
an engine on a fake clock, and waiting on reload *events* with a deadline (never sleeps).
"""

from __future__ import annotations

import itertools
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from harness import EngineRunner

from tui_sched.engine.events import Event, ModuleFailed, ModuleLoaded
from tui_sched.engine.session import Session
from tui_sched.reload import Reloader, ReloadFinished, ReloadSettings, WatchStatus

E = TypeVar("E", bound=Event)

HEADER = ("import asyncio, os, time\n"
          "from tui_sched import App\n"
          "from tui_sched.args import TerminationFlag\n\n"
          "app = App()\n")


_tmp_names = itertools.count()


def module(body: str) -> str:
    """A task module: the common header plus ``body`` (dedented)."""
    return HEADER + textwrap.dedent(body)


def write(path: Path, text: str) -> Path:
    """Write a file owner-writable only (the loader refuses group-writable modules)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    path.write_text(text)
    path.chmod(0o644)
    return path


def save_atomically(path: Path, text: str, mode: int = 0o644) -> Path:
    """Save as vim and VS Code do: write a hidden temp file, then rename it over."""
    tmp = path.with_name(f".{path.name}.{next(_tmp_names)}.tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    os.replace(tmp, path)
    return path


def where(path: Path) -> str:
    """How reload events name ``path``: under the resolved tasks folder (a symlinked
    module keeps its own name)."""
    return str(path.parent.resolve() / path.name)


class ReloadEnv:
    """A reloader over ``folder`` feeding an engine on a fake clock.

    Use as a context manager: the engine starts, the watcher starts, and the body runs
    once the watcher reports that it is watching.
    """

    def __init__(self, folder: Path, *, watch: bool = True, **settings: Any) -> None:
        settings.setdefault("import_timeout", 3.0)
        settings.setdefault("missing_poll", 0.05)
        self.folder = folder
        self.reloader = Reloader(folder, settings=ReloadSettings(watch=watch, **settings))
        self.runner = EngineRunner(self.reloader.build())

    @property
    def session(self) -> Session:
        session = self.reloader.session
        assert session is not None
        return session

    @property
    def events(self) -> list[Event]:
        return self.runner.events

    def __enter__(self) -> ReloadEnv:
        self.runner.__enter__()
        mark = self.mark()
        self.reloader.start(self.runner.bus)
        if self.reloader.settings.watch and self.folder.is_dir():
            self.wait(WatchStatus, lambda e: e.state == "watching", since=mark)
        return self

    def __exit__(self, *exc: object) -> None:
        self.reloader.stop()
        self.runner.stop()

    def mark(self) -> int:
        """A position in the event list: ``wait(..., since=mark)`` ignores older events."""
        with self.runner._cond:
            return len(self.runner.events)

    def wait(self, kind: type[E], pred: Callable[[E], bool] = lambda e: True, *,
             since: int = 0, timeout: float = 10.0) -> E:
        """The first event of ``kind`` after ``since`` that satisfies ``pred``."""
        def find() -> E | None:
            for e in self.runner.events[since:]:
                if isinstance(e, kind) and pred(e):
                    return e
            return None

        with self.runner._cond:
            found = self.runner._cond.wait_for(find, timeout)
            tail = self.runner.events[since:][-8:]
        assert found is not None, f"no {kind.__name__} in time; last events: {tail}"
        return found

    def loaded(self, path: Path, since: int, **kw: Any) -> ModuleLoaded:
        """The next ``ModuleLoaded`` of ``path`` (optionally with ``added=...`` etc.)."""
        return self.wait(ModuleLoaded, lambda e: e.path == where(path) and all(
            set(getattr(e, k)) == set(v) for k, v in kw.items()), since=since)

    def failed(self, path: Path, since: int) -> ModuleFailed:
        """The next ``ModuleFailed`` of ``path``."""
        return self.wait(ModuleFailed, lambda e: e.path == where(path), since=since)

    def after(self, since: int, kind: type[E]) -> list[E]:
        """Every event of ``kind`` published after ``since`` (so far)."""
        with self.runner._cond:
            return [e for e in self.runner.events[since:] if isinstance(e, kind)]

    def batches(self, since: int) -> list[ReloadFinished]:
        """Reload passes finished after ``since`` (so far)."""
        return self.after(since, ReloadFinished)

    def wait_batch(self, since: int) -> ReloadFinished:
        """The next reload pass to finish after ``since``."""
        return self.wait(ReloadFinished, since=since)
