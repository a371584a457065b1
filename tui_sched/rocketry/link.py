"""A session's link to Rocketry's API: where ``task.logger`` and ``get_repo()`` read
the history, which logger the run records go to, and Rocketry's ``shut_cond``.

The engine binds itself to its session when it starts and unbinds when it stops; the
session passes that on here (``RocketryLink.bind``), and nothing in the engine knows of
Rocketry.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_sched.errors import TuiSchedError
from tui_sched.rocketry.history import HistoryRepo
from tui_sched.rocketry.tasklog import TASK_LOGGER, RecordEmitter, task_logger
from tui_sched.store.base import RunRecord, RunStore

if TYPE_CHECKING:
    from tui_sched.conditions.base import Condition
    from tui_sched.engine.session import Session
    from tui_sched.rocketry.sessionconfig import SessionConfig
    from tui_sched.rocketry.setup import SetupRun

#: Most runs read per query (per task when a task is given).
READ_LIMIT = 100_000
#: How often ``shut_cond`` is checked (Rocketry's default cycle was 0.1 s).
SHUT_COND_EVERY = 0.1


class RocketryLink:
    """Rocketry's API on one session (``Session.rocketry_link()``, created once).

    History is read from the engine while one runs (on its thread), else from the
    history file ``app.run()`` left, else from the store the engine last ran on.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._engine: Any = None
        self._engine_thread: int | None = None
        self._store: RunStore | None = None
        self._tz: tzinfo | None = None
        self._clock: Any = None
        """The clock of the last engine (a test's fake one stays its time after it)."""
        self._unsubscribe: list[Callable[[], None]] = []
        self._setup: SetupRun | None = None
        self.logger_name = TASK_LOGGER
        self.history_file: Path | None = None
        """The history file ``app.run()`` keeps, read once the scheduler has stopped."""
        self.shut_cond: Condition | None = None
        """Rocketry's ``shut_cond``: the scheduler shuts down once this holds."""
        self._watch_stop: threading.Event | None = None
        self.setup_hooks: list[Callable[..., Any]] = []
        """``@app.setup()`` functions, run when an engine starts, before any task."""
        self._config: SessionConfig | None = None
        self._batches: dict[str, deque[dict[str, Any]]] = {}
        self._flags: dict[str, list[threading.Event]] = {}
        self._stopping = False
        self.kinds: dict[str, str] = {}
        """Tasks of Rocketry's kinds by name: ``on_startup``, ``on_shutdown``,
        ``permanent`` (see ``tui_sched.rocketry.kinds``)."""
        self._batch_lock = threading.Lock()

    # -- Rocketry's batches: task.run(**params) -----------------------------------------
    def queue_batch(self, task: str, params: dict[str, Any]) -> None:
        """Queue parameters for one run of ``task`` (the next run takes the oldest)."""
        with self._batch_lock:
            self._batches.setdefault(task, deque()).append(dict(params))

    def has_batch(self, task: str) -> bool:
        """Whether a run of ``task`` has parameters waiting."""
        return bool(self._batches.get(task))

    def take_batch(self, task: str) -> tuple[dict[str, Any] | None, bool]:
        """The oldest parameters waiting for ``task`` (``None``: none), and whether more
        are waiting after them."""
        with self._batch_lock:
            queue = self._batches.get(task)
            if not queue:
                return None, False
            batch = queue.popleft()
            if not queue:
                del self._batches[task]
                return batch, False
            return batch, True

    def note_flag(self, task: str, event: threading.Event) -> None:
        """Remember the ``TerminationFlag`` of a run of a permanent task, to set it as
        soon as the scheduler shuts down (runs of other tasks are not remembered)."""
        if self.kinds.get(task) == "permanent":
            with self._batch_lock:
                if self._stopping:  # its run got this far only as the scheduler stops
                    event.set()
                    return
                self._flags.setdefault(task, []).append(event)

    def stop_permanent(self) -> None:
        """Set the termination flags of the permanent tasks' runs (at shutdown), and of
        those that ask for theirs from now on."""
        with self._batch_lock:
            self._stopping = True
            flags, self._flags = self._flags, {}
        for events in flags.values():
            for event in events:
                event.set()

    def is_running(self, task: str) -> bool:
        """Whether ``task`` has a run in progress (``False`` when no scheduler runs)."""
        engine = self._engine
        if engine is None:
            return False
        return any(run.task == task for run in engine.running_runs())

    def observe(self, cond: Condition, task: object = None) -> bool:
        """Whether ``cond`` holds now for ``task`` (a name, function or task): evaluated
        on the engine thread while a scheduler runs, else from the history."""
        from tui_sched.conditions.context import Context
        from tui_sched.conditions.operands import task_name

        name = getattr(task, "name", None) if not callable(task) else None
        if task is not None and not isinstance(name, str):
            name = task_name(task)
        engine = self._engine
        if engine is not None:
            def holds() -> bool:
                ctx = engine.context()
                ctx.task = name
                return bool(cond.evaluate(ctx))

            if threading.get_ident() == self._engine_thread:
                return holds()
            result: bool = engine.call(holds).result(30)
            return result
        from datetime import datetime

        from tui_sched.engine.status import StatusIndex

        status = StatusIndex()
        store = self._store
        if store is not None:
            try:
                status.load(store.summaries())
            except TuiSchedError:  # its scheduler closed it: no runs to go by
                pass
        tz = self._tz or datetime.now().astimezone().tzinfo
        assert tz is not None
        session = self._session
        now = self._clock.time() if self._clock is not None else time.time()
        ctx = Context(now, tz, name, status, params=session.params_snapshot,
                      custom=session.custom_snapshot)
        return bool(cond.evaluate(ctx))

    @property
    def config(self) -> SessionConfig:
        """Rocketry's ``session.config`` for this session."""
        if self._config is None:
            from tui_sched.rocketry.sessionconfig import SessionConfig

            self._config = SessionConfig(self._session, self)
        return self._config

    def bind(self, engine: Any) -> None:
        """Called on the engine thread when an engine starts (``engine``) or stops
        (``None``)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._watch_stop is not None:
            self._watch_stop.set()
            self._watch_stop = None
        if self._setup is not None:
            self._setup.close()
            self._setup = None
        self._engine = engine
        with self._batch_lock:
            self._stopping, self._flags = False, {}
        if engine is None:
            self._engine_thread = None
            return
        self._engine_thread = threading.get_ident()
        bus = getattr(engine, "bus", None)
        if self.setup_hooks:
            from tui_sched.rocketry.setup import SetupRun

            # Before anything else: a hook may set the config (shut_cond, the logger).
            self._setup = SetupRun(list(self.setup_hooks), self._session, self, engine)
            if bus is not None:
                self._unsubscribe.append(bus.subscribe(self._setup))
        if self.kinds:
            from tui_sched.rocketry.kinds import KindRunner

            runner = KindRunner(self._session, self.kinds, engine)
            if bus is not None:
                self._unsubscribe.append(bus.subscribe(runner))
        if self.shut_cond is not None:
            self._watch_stop = threading.Event()
            threading.Thread(target=self._watch_shut_cond,
                             args=(engine, self.shut_cond, self._watch_stop),
                             name="tui-sched shut_cond", daemon=True).start()
        self._store = getattr(engine, "store", None)
        self._tz = getattr(engine, "tz", None)
        self._clock = getattr(engine, "clock", None)
        if bus is not None:
            self._unsubscribe.append(bus.subscribe(RecordEmitter(self.logger, lambda: self._tz)))

    def add_setup_hook(self, hook: Callable[..., Any]) -> None:
        """Register an ``@app.setup()`` hook; a new version of the same function (its
        module reloaded) replaces the old one."""
        key = _where(hook)
        self.setup_hooks[:] = [h for h in self.setup_hooks if _where(h) != key]
        self.setup_hooks.append(hook)

    def adopt_from(self, other: RocketryLink) -> None:
        """Take over what a module's own session declared (its tasks' kinds, setup
        hooks, ``shut_cond``, task logger) when the loader merges it into this one."""
        if other is self:
            return
        self.kinds.update(other.kinds)
        for hook in other.setup_hooks:
            self.add_setup_hook(hook)
        if other.shut_cond is not None:
            self.shut_cond = other.shut_cond
        if other.logger_name != TASK_LOGGER:
            self.logger_name = other.logger_name

    def _watch_shut_cond(self, engine: Any, cond: Condition, stop: threading.Event) -> None:
        """Shut the scheduler down once ``cond`` holds, checked on the engine thread (as
        Rocketry checked it every cycle) every ``SHUT_COND_EVERY`` seconds."""
        def holds() -> bool:
            return bool(cond.evaluate(engine.context()))

        while not stop.is_set():
            try:
                hit = engine.call(holds).result(30)
            except (CancelledError, TimeoutError):  # the engine stopped
                return
            except Exception:
                logging.getLogger("tui_sched.rocketry").exception(
                    "shut_cond %s could not be evaluated; it is no longer checked", cond)
                return
            if hit:
                self._session.shutdown()
                return
            stop.wait(SHUT_COND_EVERY)

    @property
    def logger(self) -> logging.Logger:
        """The task logger of this session."""
        return task_logger(self.logger_name)

    def read(self, task: str | None) -> list[RunRecord]:
        """Runs, newest first (of ``task`` if given). Empty before any engine ran."""
        engine = self._engine
        if engine is not None:
            if threading.get_ident() == self._engine_thread:
                # A main or async task: we are the engine thread, so read directly.
                direct: list[RunRecord] = engine.store.history(task, READ_LIMIT)
                return direct
            # The engine reads its store on its own thread (single writer).
            runs: list[RunRecord] = engine.history(task, READ_LIMIT).result(30)
            return runs
        if self.history_file is not None and Path(self.history_file).is_file():
            # The scheduler has stopped and closed its store: read the file it left.
            from tui_sched.store.sqlite import SqliteRunStore

            reader = SqliteRunStore.open_readonly(self.history_file)
            try:
                return reader.history(task, READ_LIMIT)
            finally:
                reader.close()
        store = self._store
        return [] if store is None else store.history(task, READ_LIMIT)

    def repo(self) -> HistoryRepo:
        """Rocketry's ``session.get_repo()``."""
        return HistoryRepo(self.read, lambda: self._tz)


def _where(func: Callable[..., Any]) -> tuple[str | None, str]:
    """A function's file and qualified name: the same across reloads of its module."""
    code = getattr(func, "__code__", None)
    return (getattr(code, "co_filename", None),
            str(getattr(func, "__qualname__", None) or repr(func)))
