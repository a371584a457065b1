"""Rocketry's ``Grouper``: tasks (and conditions, parameters) declared in one module of
a bigger application and included into the app with ``app.include_grouper(group)``,
their names prefixed, their conditions and execution defaulted by the group.

>>> from tui_sched import Rocketry
>>> from tui_sched.rocketry import Grouper
>>> group = Grouper(prefix="morning.")
>>> @group.task("daily")
... def wake_up(): ...
>>> app = Rocketry(state_dir=None)
>>> app.include_grouper(group)
>>> app.session["morning.wake_up"].condition_text
'daily'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tui_sched.conditions.operands import registered_syntax
from tui_sched.errors import TaskDefinitionError
from tui_sched.tasks.factory import caller_file
from tui_sched.tasks.task import TASK_NAME_ATTR

if TYPE_CHECKING:
    from tui_sched.app import App

F = TypeVar("F", bound=Callable[..., Any])


class Grouper:
    """A group of tasks to include into an app.

    Args:
        prefix: Put before the name of each task of the group (``"morning."``).
        start_cond: Combined with ``&`` into each task's start condition (the task's
            own, if any, first).
        execution: The execution of the group's tasks that do not give one.
    """

    def __init__(self, prefix: str | None = None, start_cond: Any = None,
                 execution: str | None = None) -> None:
        self.prefix = prefix or ""
        self.start_cond = start_cond
        self.execution = execution
        self._tasks: list[tuple[Any, dict[str, Any], str | None]] = []
        self._conds: list[tuple[str | None, Callable[..., Any]]] = []
        self._params: dict[str, Any] = {}
        self._param_funcs: list[tuple[str | None, Callable[..., Any]]] = []
        self._included = False

    def task(self, start_cond: Any = None, **kwargs: Any) -> Any:
        """As ``app.task``: the task is created when the group is included. With
        ``func=``, ``command=``, ``code=`` or ``func_name=`` nothing is returned."""
        origin = caller_file()
        if callable(start_cond) and not hasattr(start_cond, "evaluate") and not kwargs \
                and registered_syntax(start_cond) is None:
            self._tasks.append((None, {"func": start_cond}, origin))
            return start_cond
        if any(kwargs.get(k) is not None for k in ("func", "command", "code", "func_name")):
            self._tasks.append((start_cond, kwargs, origin))
            return None

        def decorator(func: F) -> F:
            self._tasks.append((start_cond, {**kwargs, "func": func}, origin))
            return func

        return decorator

    def cond(self, syntax: str | None = None) -> Callable[[F], F]:
        """As ``app.cond``; registered when the group is included."""
        def decorator(func: F) -> F:
            self._conds.append((syntax, func))
            return func
        return decorator

    def param(self, name: str | None = None) -> Callable[[F], F]:
        """As ``app.param``; set when the group is included."""
        def decorator(func: F) -> F:
            self._param_funcs.append((name, func))
            return func
        return decorator

    def params(self, **values: Any) -> None:
        """As ``app.params``; set when the group is included."""
        self._params.update(values)

    def include_into(self, app: App) -> None:
        """Create the group's tasks in ``app`` (``app.include_grouper(group)``).

        Raises:
            TaskDefinitionError: The group was included already, or a task of it is
                invalid (named with its prefix).
        """
        if self._included:
            raise TaskDefinitionError(None, f"the group {self.prefix or '(no prefix)'!r} is "
                                      "included already; a task belongs to one app")
        for syntax, func in self._conds:
            app.cond(syntax)(func)
        for name, func in self._param_funcs:
            app.param(name)(func)
        if self._params:
            app.params(**self._params)
        for start_cond, kwargs, origin in self._tasks:
            options = dict(kwargs)
            if self.execution is not None:
                options.setdefault("execution", self.execution)
            cond = start_cond
            if self.start_cond is not None:
                cond = self.start_cond if cond is None else _both(app, cond, self.start_cond)
            options["name"] = self.prefix + (options.get("name") or _default_name(options))
            task = app.session.create_task(cond, origin=origin, **options)
            target = options.get("func")
            if target is not None:
                try:  # session[func] and conditions find the task by its prefixed name
                    setattr(target, TASK_NAME_ATTR, task.name)
                except (AttributeError, TypeError):
                    pass
        self._included = True


def _both(app: App, first: Any, second: Any) -> Any:
    from tui_sched.conditions import parse_condition
    from tui_sched.conditions.operands import as_condition

    custom = app.session.custom_conditions or None

    def cond(value: Any) -> Any:
        return parse_condition(value, custom) if isinstance(value, str) else as_condition(value)

    return cond(first) & cond(second)


def _default_name(options: dict[str, Any]) -> str:
    from tui_sched.tasks.factory import build_target, default_name

    target = build_target(func=options.get("func"), command=options.get("command"),
                          code=options.get("code"), func_name=options.get("func_name"),
                          path=options.get("path"), base_dir=None, name=None)
    return default_name(target, options.get("path"))
