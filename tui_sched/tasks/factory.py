"""Build a ``Task`` from the arguments of ``app.task(...)`` (naming rules of DESIGN §1.3)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_sched.conditions.base import Condition
from tui_sched.errors import TaskDefinitionError
from tui_sched.tasks.options import validate_options
from tui_sched.tasks.targets import CodeTarget, CommandTarget, FuncTarget, LazyFuncTarget, Target
from tui_sched.tasks.task import Task, _check_execution

ParseCond = Callable[[Any], Condition | None]


def build_target(
    *,
    func: Callable[..., Any] | None,
    command: str | list[str] | tuple[str, ...] | None,
    code: str | None,
    func_name: str | None,
    path: str | Path | None,
    base_dir: Path | None,
    name: str | None,
) -> Target:
    """Choose the task kind from which of ``func``/``command``/``code``/``func_name`` is set."""
    given = [k for k, v in (("func", func), ("command", command), ("code", code),
                            ("func_name", func_name)) if v is not None]
    if len(given) != 1:
        raise TaskDefinitionError(
            name,
            "give exactly one of func=, command=, code= or func_name= (with path=); got "
            + (", ".join(given) or "none"),
        )
    if func is not None:
        if not callable(func):
            raise TaskDefinitionError(name, f"func must be callable, not {func!r}", "func")
        return FuncTarget.of(func)
    if command is not None:
        if isinstance(command, list | tuple):
            if not command or not all(isinstance(c, str) for c in command):
                raise TaskDefinitionError(name, "command list must be non-empty strings", "command")
            return CommandTarget(tuple(command))
        if not isinstance(command, str) or not command.strip():
            raise TaskDefinitionError(name, "command must be a non-empty string or list", "command")
        return CommandTarget(command)
    if code is not None:
        if not isinstance(code, str):
            raise TaskDefinitionError(name, "code must be a string", "code")
        try:
            compile(code, "<code>", "exec")
        except SyntaxError as exc:
            raise TaskDefinitionError(name, f"code does not compile: {exc}", "code") from None
        return CodeTarget(code)
    if path is None:
        raise TaskDefinitionError(name, "func_name= needs path= (the file to import)", "path")
    p = Path(path)
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    assert func_name is not None
    return LazyFuncTarget(str(p), func_name)


def default_name(target: Target, given_path: str | Path | None = None) -> str:
    """The name a task gets when none is given."""
    if isinstance(target, FuncTarget):
        return str(getattr(target.func, "__name__", None) or repr(target.func))
    if isinstance(target, LazyFuncTarget):
        return f"{given_path if given_path is not None else target.path}:{target.func_name}"
    if isinstance(target, CommandTarget):
        return target.describe()
    return f"code-{target.digest}"


def build_task(
    start_cond: Any = None,
    *,
    parse: ParseCond,
    func: Callable[..., Any] | None = None,
    command: str | list[str] | None = None,
    code: str | None = None,
    func_name: str | None = None,
    path: str | Path | None = None,
    name: str | None = None,
    disabled: bool = False,
    force_run: bool = False,
    origin: str | None = None,
    **options: Any,
) -> Task:
    """Validate everything and return the task (not yet added to a session).

    Raises:
        TaskDefinitionError: Naming the task and the option at fault.
    """
    base_dir = Path(origin).parent if origin else None
    target = build_target(func=func, command=command, code=code, func_name=func_name,
                          path=path, base_dir=base_dir, name=name)
    task_name = name if name is not None else default_name(target, path)
    if not isinstance(task_name, str) or not task_name:
        raise TaskDefinitionError(None, f"name must be a non-empty string, not {task_name!r}", "name")
    if "end_cond" in options and options["end_cond"] is not None:
        options["end_cond"] = _parse(parse, options["end_cond"], task_name, "end_cond")
    opts = validate_options(task_name, options)
    _check_execution(task_name, target, opts)
    cond = _parse(parse, start_cond, task_name, "start_cond")
    for flag, value in (("disabled", disabled), ("force_run", force_run)):
        if not isinstance(value, bool):
            raise TaskDefinitionError(task_name, f"must be True or False, not {value!r}", flag)
    return Task(task_name, target, cond, opts, disabled=disabled, force_run=force_run,
                origin=origin)


def _parse(parse: ParseCond, value: Any, task: str, option: str) -> Condition | None:
    from tui_sched.errors import ConditionSyntaxError

    try:
        return parse(value)
    except ConditionSyntaxError as exc:
        raise TaskDefinitionError(task, str(exc), option) from None


def caller_file(depth: int = 2) -> str | None:
    """The source file of the caller ``depth`` frames up (to resolve relative paths)."""
    frame = inspect.currentframe()
    try:
        for _ in range(depth):
            if frame is None:
                return None
            frame = frame.f_back
        if frame is None:
            return None
        file = frame.f_globals.get("__file__")
        return _resolved(file) if isinstance(file, str) else None
    finally:
        del frame


@functools.lru_cache(maxsize=256)
def _resolved(file: str) -> str:
    # A module that defines a thousand tasks asks a thousand times; resolving walks the
    # file system each time.
    return str(Path(file).resolve())
