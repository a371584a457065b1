"""``App``: where task modules declare their tasks.

>>> from tui_sched import App
>>> app = App(state_dir=None)
>>> @app.task("daily")
... def do_things():
...     ...
>>> app.session["do_things"].condition_text
'daily'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from tui_sched.conditions.custom import ConditionFunction
from tui_sched.conditions.operands import mark_condition, registered_syntax
from tui_sched.config import SchedulerConfig
from tui_sched.engine.session import Session
from tui_sched.rocketry.kinds import take_kind
from tui_sched.tasks.factory import caller_file
from tui_sched.tasks.task import TASK_NAME_ATTR, Task

if TYPE_CHECKING:
    from tui_sched.rocketry.grouper import Grouper

F = TypeVar("F", bound=Callable[..., Any])

_DEFAULT_STATE = ".tui-sched"


class App:
    """A set of tasks, its session, and a way to run them headless.

    Creating an ``App`` creates no global state. A module may hold several; the loader
    collects the tasks of every ``App`` it finds.

    Args:
        state_dir: Where ``app.run()`` keeps history and the instance lock (default
            ``.tui-sched`` in the working directory; ``None``: in memory only).
        config: Scheduler settings (a ``SchedulerConfig`` or a dict of its fields).
        **settings: Scheduler settings as keyword arguments (``timezone="UTC"`` ...).
    """

    #: Options every task of this app gets unless it gives its own (Rocketry's
    #: session-wide ``timeout``, ``multilaunch``; see ``tui_sched.rocketry``).
    _task_defaults: dict[str, Any]

    def __init__(
        self,
        state_dir: str | os.PathLike[str] | None = _DEFAULT_STATE,
        *,
        config: SchedulerConfig | dict[str, Any] | None = None,
        **settings: Any,
    ) -> None:
        if isinstance(config, dict):
            config = SchedulerConfig(**config, **settings)
        elif config is None:
            config = SchedulerConfig(**settings)
        elif settings:
            config = config.model_copy(update=settings)
        self.config: SchedulerConfig = config
        self.state_dir = None if state_dir is None else Path(state_dir)
        self._session = Session()
        rocketry_config = self._session.rocketry_link().config  # Rocketry's session.config
        rocketry_config.use_settings(self.config)
        # What task.execution says before the engine starts (it sets the same then).
        self._session.default_execution = self.config.default_execution
        self._task_defaults = rocketry_config.task_defaults

    @property
    def session(self) -> Session:
        """The session holding this app's tasks (the shared one once a loader adopts it)."""
        return self._session

    def _adopt(self, session: Session) -> None:
        """Point this app at the combined session of a folder of modules."""
        session.rocketry_link().adopt_from(self._session.rocketry_link())
        self._session = session

    @overload
    def task(self, start_cond: F) -> F: ...

    @overload
    def task(self, start_cond: Any = None, **kwargs: Any) -> Any: ...

    def task(self, start_cond: Any = None, **kwargs: Any) -> Any:
        """Create a task, or return a decorator that makes the function a task.

        With ``func=``, ``command=``, ``code=`` or ``func_name=`` (and ``path=``) the task
        is created and returned; otherwise a decorator is returned that creates it from
        the decorated function and returns the function unchanged.

        Args:
            start_cond: A condition string (``"daily"``) or object; ``None`` means the
                task runs only when forced.
            **kwargs: ``name``, ``execution``, ``timeout``, ``priority``, ``disabled``,
                ``force_run``, ``parameters``, ``end_cond``, ``multilaunch``,
                ``retries``, ``retry_delay``, and the target arguments above.

        Raises:
            TaskDefinitionError: An invalid option (naming task and option).
            DuplicateTaskError: The name is taken in this session.
        """
        origin = caller_file()
        for option, default in self._task_defaults.items():
            kwargs.setdefault(option, default)
        if callable(start_cond) and not _is_condition(start_cond):
            # Bare @app.task without parentheses.
            return self._decorate(None, origin, kwargs)(start_cond)
        kind = take_kind(start_cond, kwargs)  # Rocketry's on_startup=True etc.
        if any(kwargs.get(k) is not None for k in ("func", "command", "code", "func_name")):
            task = self._session.create_task(start_cond, origin=origin, **kwargs)
            self._note_kind(task, kind)
            return task
        return self._decorate(start_cond, origin, kwargs, kind)

    def _note_kind(self, task: Task, kind: str | None) -> None:
        if kind is not None:
            self._session.rocketry_link().kinds[task.name] = kind

    def _decorate(self, start_cond: Any, origin: str | None, kwargs: dict[str, Any],
                  kind: str | None = None) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            task = self._session.create_task(start_cond, origin=origin, func=func, **kwargs)
            self._note_kind(task, kind)
            try:
                setattr(func, TASK_NAME_ATTR, task.name)
            except (AttributeError, TypeError):  # builtins and the like
                pass
            return func

        return decorator

    def cond(self, syntax: str | None = None) -> Callable[[F], F]:
        """Register a function as a condition usable by name in condition strings, and
        as an operand as Rocketry allows (``daily & is_foo``). Without a syntax, its name
        is the syntax (``is_foo`` or ``is_foo()`` in strings).

        >>> app = App(state_dir=None)
        >>> @app.cond("is foo")
        ... def is_foo():
        ...     return True
        """

        def decorator(func: F) -> F:
            name = syntax if syntax is not None else getattr(func, "__name__", None)
            if not isinstance(name, str):
                raise TypeError(f"give @app.cond a syntax for {func!r}: it has no name")
            self._session.register_condition(name, _with_markers(func, self))
            mark_condition(func, name)
            # Called with arguments it is the condition with them (Rocketry's
            # ``daily & file_exists("data.csv")``); without, it runs the function.
            return ConditionFunction(func, name)  # type: ignore[return-value]

        return decorator

    def param(self, name: str | None = None) -> Callable[[F], F]:
        """Rocketry's ``@app.param("item")``: the session parameter ``name`` (default:
        the function's name) is the function's return value, computed each time a run
        reads it with ``Arg("item")``. Returns the function unchanged."""
        from tui_sched.tasks.args import FuncArg

        def decorator(func: F) -> F:
            key = name if name is not None else getattr(func, "__name__", None)
            if not isinstance(key, str):
                raise TypeError(f"give @app.param a name for {func!r}: it has no name")
            self._session.params(**{key: FuncArg(func)})
            return func

        return decorator

    def setup(self, func: F | None = None) -> Any:
        """Rocketry's ``@app.setup()``: run ``func`` each time the scheduler starts,
        before any task runs, with its argument markers filled in (``Config()``,
        ``TaskLogger()``, ``Session()``, ``EnvArg(...)``). A generator function runs up to
        its ``yield`` then, and the rest once the scheduler has started. Returns the
        function unchanged; usable as ``@app.setup`` and ``@app.setup()``."""
        def decorator(hook: F) -> F:
            if not callable(hook):
                raise TypeError(f"@app.setup decorates a function, not {hook!r}")
            self._session.rocketry_link().add_setup_hook(hook)
            return hook

        return decorator if func is None else decorator(func)

    def params(self, **values: Any) -> None:
        """Set session parameters (read by ``Arg("key")``)."""
        self._session.params(**values)

    def run(self) -> None:
        """Run this app's tasks headless until SIGINT/SIGTERM or ``session.shutdown()``.

        Log lines go to stdout. ``session.restart()`` restarts the engine in place.
        """
        from tui_sched.executors.worker_env import in_worker

        if in_worker():
            return  # a process worker imported a script that calls app.run() unguarded
        from tui_sched.headless import run_app
        from tui_sched.statedir import HISTORY_FILE

        if self.state_dir is not None:  # task.logger reads it after the run
            self._session.rocketry_link().history_file = self.state_dir / HISTORY_FILE
        run_app(self)

    async def serve(self) -> None:
        """Rocketry's ``await app.serve()``: run headless as ``run()`` does, from an
        asyncio program (next to a web server, say). The scheduler runs on a thread of
        its own; cancelling this coroutine shuts it down and waits for it to stop."""
        import asyncio

        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(None, self.run)
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            self._session.shutdown()
            await running
            raise

    def include_grouper(self, group: Grouper) -> None:
        """Rocketry's ``app.include_grouper(group)``: add the tasks, conditions and
        parameters of a ``Grouper`` (task names get its prefix)."""
        group.include_into(self)

    def get_task(self, name: str) -> Task:
        """The task named ``name`` (same as ``app.session[name]``)."""
        return self._session[name]


def _with_markers(func: F, app: App) -> F:
    """``func``, or, when its parameters have argument markers as defaults (Rocketry's
    ``def is_right_task(this_task=Task())``), a function that fills them in from the
    app's session for the task whose condition is being evaluated."""
    from tui_sched.tasks.signature import markers_of

    markers = markers_of(func)
    if not markers:
        return func

    def with_markers(*args: Any, **kwargs: Any) -> Any:
        import threading

        from tui_sched.conditions.custom import EVALUATED_FOR
        from tui_sched.engine.arguments import ArgumentResolver

        session = app.session
        task_name = EVALUATED_FOR.get()
        task = session.get(task_name) if task_name is not None else None
        resolver = ArgumentResolver(session)
        for name, marker in markers:
            if name not in kwargs:
                kwargs[name] = resolver.resolve(marker, task, threading.Event)  # type: ignore[arg-type]
        return func(*args, **kwargs)

    return with_markers  # type: ignore[return-value]


def _is_condition(obj: Any) -> bool:
    from tui_sched.conditions.base import Condition

    return isinstance(obj, Condition) or registered_syntax(obj) is not None
