"""The task object users hold: ``session["name"]``, ``task.force_run = True``.

A task is a frozen definition (name, target, condition, options) plus two mutable flags
(``disabled``, ``force_run``). Changing an option validates the new value and replaces
the options value as a whole, then tells the owning session so the engine re-evaluates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tui_sched.conditions.base import Condition
from tui_sched.tasks.options import OPTION_NAMES, TaskOptions, validate_options
from tui_sched.tasks.targets import CodeTarget, CommandTarget, FuncTarget, LazyFuncTarget, Target

if TYPE_CHECKING:
    from tui_sched.rocketry.link import RocketryLink
    from tui_sched.rocketry.tasklog import TaskLogger

#: Attribute set on decorated functions so ``session[func]`` finds the task.
TASK_NAME_ATTR = "__tui_sched_task__"


class TaskOwner(Protocol):
    """What a task tells its session about (implemented by ``Session``)."""

    def _task_changed(self, task: Task, what: str) -> None: ...

    def _task_flag_changed(self, task: Task, flag: str, value: bool) -> None: ...

    def remove_task(self, task: str | Task) -> None: ...

    def _parse_condition(self, value: Any) -> Condition | None: ...

    @property
    def default_execution(self) -> str: ...

    def rocketry_link(self) -> RocketryLink: ...


class Task:
    """A scheduled unit of work.

    Attributes:
        name: Unique name within the session.
        target: What it runs.
        start_cond: When it runs (``None``: only when forced).
        options: Validated options (``task.timeout`` etc. read from here).
        origin: The module file that declared it, if any.
    """

    __slots__ = ("_disabled", "_force_run", "_owner", "name", "options", "origin",
                 "start_cond", "target")

    name: str
    target: Target
    start_cond: Condition | None
    options: TaskOptions
    origin: str | None
    _disabled: bool
    _force_run: bool
    _owner: TaskOwner | None

    def __init__(
        self,
        name: str,
        target: Target,
        start_cond: Condition | None,
        options: TaskOptions,
        *,
        disabled: bool = False,
        force_run: bool = False,
        origin: str | None = None,
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "start_cond", start_cond)
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "_disabled", disabled)
        object.__setattr__(self, "_force_run", force_run)
        object.__setattr__(self, "_owner", None)

    # -- flags -------------------------------------------------------------------------
    @property
    def disabled(self) -> bool:
        """Never start by condition (a forced run still runs). Persisted."""
        return self._disabled

    @disabled.setter
    def disabled(self, value: bool) -> None:
        value = _as_bool("disabled", value, self.name)
        object.__setattr__(self, "_disabled", value)
        if self._owner is not None:
            self._owner._task_flag_changed(self, "disabled", value)

    # The seed spells it `task.disable = True`.
    disable = disabled

    @property
    def force_run(self) -> bool:
        """Run once at the next tick regardless of condition and ``disabled``."""
        return self._force_run

    @force_run.setter
    def force_run(self, value: bool) -> None:
        value = _as_bool("force_run", value, self.name)
        object.__setattr__(self, "_force_run", value)
        if self._owner is not None:
            self._owner._task_flag_changed(self, "force_run", value)

    # -- options -----------------------------------------------------------------------
    @property
    def execution(self) -> str:
        """The execution mode in effect."""
        if self.options.execution is not None:
            return str(self.options.execution)
        if isinstance(self.target, FuncTarget) and self.target.is_coroutine:
            return "async"
        owner = self._owner
        return owner.default_execution if owner is not None else "thread"

    @property
    def executor_key(self) -> str:
        """Which executor runs it: commands run as child processes (on a dask worker if
        the task says ``execution="dask"``)."""
        if isinstance(self.target, CommandTarget) and self.options.execution != "dask":
            return "command"
        return self.execution

    @property
    def kind(self) -> str:
        """``func``, ``lazy``, ``command`` or ``code``."""
        return {FuncTarget: "func", LazyFuncTarget: "lazy", CommandTarget: "command",
                CodeTarget: "code"}[type(self.target)]

    @property
    def condition_text(self) -> str:
        """The condition in canonical string form (empty: forced runs only)."""
        return "" if self.start_cond is None else str(self.start_cond)

    def __getattr__(self, item: str) -> Any:
        # Options read as attributes: task.timeout, task.priority, ...
        if item in OPTION_NAMES:
            return getattr(self.options, item)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {item!r}")

    def __setattr__(self, key: str, value: Any) -> None:
        if key in ("disabled", "disable", "force_run"):
            object.__setattr__(self, key, value)  # goes through the property
            return
        if key in OPTION_NAMES:
            if key == "end_cond" and self._owner is not None:
                value = self._owner._parse_condition(value)
            new = validate_options(self.name, {**self.options.model_dump(), key: value})
            _check_execution(self.name, self.target, new)
            object.__setattr__(self, "options", new)
        elif key == "func":
            target = self._new_func_target(value)
            object.__setattr__(self, "target", target)
        elif key == "start_cond":
            cond = self._owner._parse_condition(value) if self._owner is not None else value
            object.__setattr__(self, "start_cond", cond)
        else:
            raise AttributeError(
                f"task {self.name!r} has no option {key!r}; options are: "
                + ", ".join(sorted(OPTION_NAMES | {"disabled", "force_run", "start_cond", "func"}))
            )
        if self._owner is not None:
            self._owner._task_changed(self, key)

    @property
    def logger(self) -> TaskLogger:
        """Rocketry's task logger: this task's history as log records
        (``task.logger.filter_by(action="run").all()``) and a ``logging`` adapter that
        adds ``task_name``. A task not in a session has no history to read."""
        from tui_sched.rocketry.tasklog import TaskLogger

        owner = self._owner
        if owner is None:
            raise AttributeError(f"task {self.name!r} is not in a session, so it has no "
                                 "history to read; read it as session[name].logger")
        return TaskLogger(self, owner.rocketry_link())

    @property
    def func(self) -> Any:
        """The function a function task runs (``None`` for other kinds). Setting it
        (Rocketry's ``task.func = do_nothing``) replaces what the task runs."""
        return self.target.func if isinstance(self.target, FuncTarget) else None

    @property
    def is_running(self) -> bool:
        """Whether a run of this task is in progress (Rocketry's ``task.is_running``)."""
        owner = self._owner
        return owner is not None and owner.rocketry_link().is_running(self.name)

    def run(self, params: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Rocketry's ``task.run(arg="a value")``: run once at the next tick with these
        parameters (over the task's own), whatever its condition. Each call queues one
        run; each run takes the oldest parameters queued.

        Raises:
            TaskDefinitionError: The task is not in a session, or its function does not
                take a parameter given.
        """
        from tui_sched.errors import TaskDefinitionError

        batch = {**(params or {}), **kwargs}
        owner = self._owner
        if owner is None:
            raise TaskDefinitionError(self.name, "add the task to a session before running it")
        if isinstance(self.target, FuncTarget):
            from tui_sched.tasks.signature import accepts

            names, var_kw = accepts(self.target.func)
            unknown = sorted(set(batch) - names) if not var_kw else []
            if unknown:
                raise TaskDefinitionError(self.name, f"its function takes no parameter "
                                          f"{', '.join(unknown)}", "run")
        elif batch:
            raise TaskDefinitionError(self.name, f"a {self.kind} task takes no parameters",
                                      "run")
        owner.rocketry_link().queue_batch(self.name, batch)
        self.force_run = True

    def delete(self) -> None:
        """Remove the task from its session (a running run finishes first)."""
        if self._owner is not None:
            self._owner.remove_task(self)

    def _new_func_target(self, func: Any) -> FuncTarget:
        from tui_sched.errors import TaskDefinitionError

        if not isinstance(self.target, FuncTarget):
            raise TaskDefinitionError(self.name, f"a {self.kind} task has no function to "
                                      "replace", "func")
        if not callable(func):
            raise TaskDefinitionError(self.name, f"func must be callable, not {func!r}", "func")
        target = FuncTarget.of(func)
        _check_execution(self.name, target, self.options)
        return target

    def _bind(self, owner: TaskOwner | None) -> None:
        object.__setattr__(self, "_owner", owner)

    def __repr__(self) -> str:
        return f"Task({self.name!r}, {self.condition_text!r}, execution={self.execution!r})"


def _as_bool(flag: str, value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        from tui_sched.errors import TaskDefinitionError

        raise TaskDefinitionError(name, f"must be True or False, not {value!r}", flag)
    return value


def _check_execution(name: str, target: Target, options: TaskOptions) -> None:
    """Reject combinations that cannot work, at definition time."""
    from tui_sched.errors import TaskDefinitionError
    from tui_sched.tasks.args import Marker
    from tui_sched.tasks.signature import markers_of

    execution = options.execution
    if execution not in ("process", "dask") or isinstance(target, CommandTarget):
        return
    if execution == "dask":
        from tui_sched.executors.dask import missing_extra

        missing = missing_extra()
        if missing is not None:
            raise TaskDefinitionError(name, missing, "execution")
    if isinstance(target, FuncTarget):
        if not target.referable:
            raise TaskDefinitionError(
                name,
                f"a {execution} task must be a module-level function in a file (it is "
                "imported by name in the worker process); lambdas and nested functions "
                "cannot be sent",
                "execution",
            )
        markers: dict[str, Marker] = dict(markers_of(target.func))
    else:
        markers = {}
    markers.update({k: v for k, v in options.parameters.items() if isinstance(v, Marker)})
    for param, marker in markers.items():
        if marker.in_process_only:
            raise TaskDefinitionError(
                name,
                f"parameter {param!r} asks for {type(marker).__name__}(), which only "
                "main, async and thread tasks can have: a separate process cannot alter "
                "the scheduling environment. Use execution='thread'.",
                "execution",
            )

