"""The session: the task registry and the operations metatasks, the UI and signal
handlers call (``session.shutdown()``, ``session["x"].force_run = True`` ...).

Every method is safe to call from any thread. The session does not schedule anything
itself; when it is bound to a running engine it tells the engine what changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from tui_sched.conditions.base import Condition
from tui_sched.errors import DuplicateTaskError, TaskNotFound, UnknownTaskReference
from tui_sched.tasks.factory import build_task
from tui_sched.tasks.task import TASK_NAME_ATTR, Task

if TYPE_CHECKING:
    from tui_sched.rocketry.history import HistoryRepo
    from tui_sched.rocketry.link import RocketryLink
    from tui_sched.rocketry.sessionconfig import SessionConfig


class EngineLink(Protocol):
    """What the session tells a running engine (implemented by ``Engine``)."""

    def notify(self, task: str | None = None) -> None: ...

    def request_stop(self, restart: bool = False, force: bool = False) -> None: ...

    def task_added(self, task: Task) -> None: ...

    def task_changed(self, task: Task, what: str) -> None: ...

    def task_removed(self, task: Task) -> None: ...

    def flag_changed(self, task: Task, flag: str, value: bool) -> None: ...

    def tasks_swapped(self, removed: list[Task], swapped_in: list[Task],
                      terminate: bool = False) -> None: ...

    @property
    def state(self) -> str: ...


class Session:
    """A set of uniquely named tasks plus session parameters and custom conditions."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tasks: dict[str, Task] = {}
        # The engine's lookup of a task by name, for every task it evaluates: the dict's
        # own ``get`` (a call into C). Lock-free on purpose: a dict read is atomic, and
        # the dict is changed in place, never replaced; writers still take the lock.
        self._lookup: Callable[[str], Task | None] = self._tasks.get
        self._params: dict[str, Any] = {}
        self._custom: dict[str, Callable[..., bool]] = {}
        self._parsed: dict[str, Condition] = {}
        # Read-only copies replaced on every change, so the engine reads them per tick
        # without copying or locking.
        self.params_snapshot: Mapping[str, Any] = MappingProxyType({})
        self.custom_snapshot: Mapping[str, Callable[..., bool]] = MappingProxyType({})
        self._engine: EngineLink | None = None
        self.default_execution = "thread"
        """Execution of plain functions that do not say (set from the config)."""
        self.returns: dict[str, Any] = {}
        """Return value of the last successful run of each task (for ``Return``)."""

    # -- lookup ------------------------------------------------------------------------
    def __getitem__(self, key: str | Callable[..., Any] | Task) -> Task:
        """The task named ``key``, or created from the function ``key``.

        Raises:
            TaskNotFound: With near names as suggestions.
        """
        name = self._name_of(key)
        with self._lock:
            try:
                return self._tasks[name]
            except KeyError:
                raise TaskNotFound(name, self._tasks) from None

    def __contains__(self, key: object) -> bool:
        try:
            name = self._name_of(key)  # type: ignore[arg-type]
        except TypeError:
            return False
        with self._lock:
            return name in self._tasks

    def get(self, key: str | Callable[..., Any], default: Task | None = None) -> Task | None:
        """The task, or ``default``."""
        try:
            return self[key]
        except TaskNotFound:
            return default

    @property
    def tasks(self) -> list[Task]:
        """All tasks (a snapshot list; safe to iterate while tasks change)."""
        with self._lock:
            return list(self._tasks.values())

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __len__(self) -> int:
        with self._lock:
            return len(self._tasks)

    @staticmethod
    def _name_of(key: str | Callable[..., Any] | Task) -> str:
        if isinstance(key, str):
            return key
        if isinstance(key, Task):
            return key.name
        name: Any = getattr(key, TASK_NAME_ATTR, None)
        if isinstance(name, str):
            return name
        if callable(key):
            return str(getattr(key, "__name__", repr(key)))
        raise TypeError(f"look tasks up by name or function, not {key!r}")

    # -- creating, changing, deleting --------------------------------------------------
    def create_task(self, start_cond: Any = None, *, origin: str | None = None, **kwargs: Any) -> Task:
        """Create a task and add it (same arguments as ``app.task``).

        Raises:
            TaskDefinitionError: Invalid options, naming the task and option.
            DuplicateTaskError: The name is taken.
        """
        task = build_task(start_cond, parse=self._parse_condition, origin=origin, **kwargs)
        self.add_task(task)
        return task

    def add_task(self, task: Task) -> None:
        """Add a built task (the loader uses this to merge modules into one session)."""
        with self._lock:
            existing = self._tasks.get(task.name)
            if existing is not None and existing is not task:
                raise DuplicateTaskError(task.name, existing.origin)
            self._tasks[task.name] = task
            task._bind(self)
            engine = self._engine
        if engine is not None and existing is None:
            engine.task_added(task)

    def remove_task(self, task: str | Task) -> None:
        """Delete a task. A run in progress finishes and is recorded; nothing crashes."""
        name = task.name if isinstance(task, Task) else task
        with self._lock:
            removed = self._tasks.pop(name, None)
            if removed is None:
                raise TaskNotFound(name, self._tasks)
            removed._bind(None)
            engine = self._engine
        if engine is not None:
            engine.task_removed(removed)

    def swap_tasks(self, removed: list[str], added: list[Task], replaced: list[Task], *,
                   terminate_removed: bool = False) -> None:
        """Remove, add and replace tasks in one step (a module reload), then tell the
        engine once. Nothing else sees a state in between.

        A replaced task keeps its name, hence its history; the caller decides which of the
        old task's flags the new one carries. Removed tasks' runs in progress finish (or,
        with ``terminate_removed``, are terminated) and are recorded. A name in
        ``removed`` that is already gone is skipped; a replaced task whose name is gone
        (deleted at run time) is added.

        Raises:
            DuplicateTaskError: An added task's name is taken (nothing changes).
        """
        with self._lock:
            leaving = set(removed)
            for task in added:
                existing = self._tasks.get(task.name)
                if existing is not None and existing is not task and task.name not in leaving:
                    raise DuplicateTaskError(task.name, existing.origin)
            gone: list[Task] = []
            for name in removed:
                old = self._tasks.pop(name, None)
                if old is not None:
                    old._bind(None)
                    gone.append(old)
            for task in (*replaced, *added):
                old = self._tasks.get(task.name)
                if old is not None and old is not task:
                    old._bind(None)
                self._tasks[task.name] = task
                task._bind(self)
            engine = self._engine
        if engine is not None:
            engine.tasks_swapped(gone, [*replaced, *added], terminate_removed)

    def run_task(self, task: str | Task | Callable[..., Any]) -> None:
        """Run the task once at the next tick regardless of its condition (= forcing)."""
        self[task].force_run = True

    def check_references(self) -> list[UnknownTaskReference]:
        """Every condition reference to a task that does not exist."""
        with self._lock:
            names = set(self._tasks)
            problems = []
            for task in self._tasks.values():
                for cond in (task.start_cond, task.options.end_cond):
                    if cond is None:
                        continue
                    for ref in sorted(cond.task_refs() - names):
                        problems.append(UnknownTaskReference(task.name, ref, names))
        return problems

    # -- parameters and custom conditions ----------------------------------------------
    def params(self, **values: Any) -> None:
        """Set session parameters (read by ``Arg("key")`` and ``param`` conditions)."""
        with self._lock:
            self._params.update(values)
            self.params_snapshot = MappingProxyType(dict(self._params))

    @property
    def parameters(self) -> dict[str, Any]:
        """A copy of the session parameters."""
        with self._lock:
            return dict(self._params)

    def register_condition(self, syntax: str, func: Callable[..., bool]) -> None:
        """Make ``syntax`` usable in condition strings (``@app.cond("is foo")``)."""
        with self._lock:
            self._custom[syntax] = func
            self.custom_snapshot = MappingProxyType(dict(self._custom))
            self._parsed.clear()  # a new phrase may change what a text means

    @property
    def custom_conditions(self) -> dict[str, Callable[..., bool]]:
        """Registered custom conditions by syntax."""
        with self._lock:
            return dict(self._custom)

    def _parse_condition(self, value: Any) -> Condition | None:
        if value is None or isinstance(value, Condition):
            return value
        if isinstance(value, str):
            # Conditions are frozen values, so one parse serves every task that uses the
            # same text (a folder of 1,000 "daily" tasks parses it once).
            cached = self._parsed.get(value)
            if cached is not None:
                return cached
            from tui_sched.conditions import parse_condition

            cond = parse_condition(value, custom=self.custom_conditions or None)
            if len(self._parsed) < 4096:
                self._parsed[value] = cond
            return cond
        from tui_sched.conditions.operands import as_condition

        # A function registered with @app.cond() is one; anything else is refused clearly.
        return as_condition(value)

    # -- control -----------------------------------------------------------------------
    def shutdown(self, force: bool = False) -> None:
        """Stop scheduling, let running tasks finish (bounded by the shutdown timeout),
        then stop. ``force=True`` terminates running tasks at once."""
        engine = self._engine
        if engine is not None:
            engine.request_stop(restart=False, force=force)

    def restart(self) -> None:
        """Stop as ``shutdown()`` does, then start again in this process: task modules
        are reloaded and the store reopened."""
        engine = self._engine
        if engine is not None:
            engine.request_stop(restart=True)

    @property
    def state(self) -> str:
        """``stopped``, ``starting``, ``running``, ``stopping`` or ``restarting``."""
        engine = self._engine
        return "stopped" if engine is None else engine.state

    # -- task callbacks (TaskOwner) ----------------------------------------------------
    def _task_changed(self, task: Task, what: str) -> None:
        engine = self._engine
        if engine is not None:
            engine.task_changed(task, what)

    def _task_flag_changed(self, task: Task, flag: str, value: bool) -> None:
        engine = self._engine
        if engine is not None:
            engine.flag_changed(task, flag, value)

    def _bind_engine(self, engine: EngineLink | None) -> None:
        with self._lock:
            self._engine = engine
        self.rocketry_link().bind(engine)

    # -- Rocketry's API (DESIGN §6.3) ---------------------------------------------------
    def rocketry_link(self) -> RocketryLink:
        """Rocketry's API on this session (``tui_sched.rocketry``): where ``task.logger``
        and ``get_repo()`` read runs, the task logger runs are logged on, ``session.config``,
        ``@app.setup`` hooks and ``shut_cond``."""
        link: RocketryLink | None = self.__dict__.get("_rocketry_link")
        if link is not None:  # the engine asks on every run: no lock once it exists
            return link
        with self._lock:
            link = getattr(self, "_rocketry_link", None)
            if link is None:
                from tui_sched.rocketry.link import RocketryLink

                link = RocketryLink(self)
                self._rocketry_link = link
            return link

    def get_repo(self) -> HistoryRepo:
        """Rocketry's ``session.get_repo()``: the run history as Rocketry's log records
        (``repo.filter_by(task_name="x", action="run").all()``), read-only."""
        return self.rocketry_link().repo()

    @property
    def config(self) -> SessionConfig:
        """Rocketry's ``session.config``: its options by Rocketry's names (the
        ``Config()`` argument); see ``tui_sched.rocketry.sessionconfig``."""
        return self.rocketry_link().config

    def shut_down(self, force: bool = False) -> None:
        """Rocketry's spelling of ``shutdown()``."""
        self.shutdown(force=force)

    def observe(self, cond: Condition, task: object = None) -> bool:
        """Whether ``cond`` holds now for ``task`` (Rocketry's ``cond.observe(task=...,
        session=...)``), from the running scheduler's state when one runs."""
        return self.rocketry_link().observe(cond, task)
