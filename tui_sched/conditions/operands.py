"""What may stand beside ``&``, ``|`` and ``~``: condition objects, and functions
registered as custom conditions (``@app.cond()``), as in Rocketry.

Anything else (a plain function, a number, a string) is refused where the expression is
written, with a message that names the operand and says what to do, instead of being
accepted and breaking later in ``tui-sched check`` or in the engine.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tui_sched.errors import TuiSchedError

if TYPE_CHECKING:
    from tui_sched.conditions.base import Condition

#: Set on a function registered as a custom condition: the syntax it is registered under.
CONDITION_ATTR = "__tui_sched_condition__"
#: Set on a function made into a task (``tui_sched.tasks.task.TASK_NAME_ATTR``; spelled
#: out here so that the condition language does not import the task model).
_TASK_ATTR = "__tui_sched_task__"


class NotACondition(TuiSchedError, TypeError):
    """An operand of ``&``, ``|`` or ``~`` (or a start condition) is not a condition.

    Attributes:
        operand: The offending value.
        expression: The expression it was written in (``daily & is_foo``), if known.
        detail: What it is and what to do.
    """

    def __init__(self, operand: object, detail: str, expression: str | None = None) -> None:
        self.operand = operand
        self.expression = expression
        self.detail = detail
        where = f"in `{expression}`: " if expression else ""
        super().__init__(f"{where}{detail}")


def mark_condition(func: Callable[..., Any], syntax: str) -> None:
    """Note on ``func`` that it is registered as the custom condition ``syntax``, so that
    the function itself can be used as an operand (``daily & is_foo``)."""
    try:
        setattr(func, CONDITION_ATTR, syntax)
    except (AttributeError, TypeError):  # builtins and the like: strings still work
        pass


def registered_syntax(obj: object) -> str | None:
    """The syntax ``obj`` is registered under as a custom condition, if it is one."""
    syntax = getattr(obj, CONDITION_ATTR, None) if callable(obj) else None
    return syntax if isinstance(syntax, str) else None


def operand_name(obj: object) -> str:
    """How an operand reads in an expression (a function by its name)."""
    if callable(obj) and hasattr(obj, "__name__"):
        return str(obj.__name__)
    return repr(obj)


def as_condition(obj: object, expression: str | None = None) -> Condition:
    """``obj`` as a condition node: a condition is itself; a function registered with
    ``@app.cond()`` becomes the custom condition it was registered as.

    Raises:
        NotACondition: Anything else, saying what to use instead.
    """
    from tui_sched.conditions.base import Condition  # base uses this module

    if isinstance(obj, Condition):
        return obj
    syntax = registered_syntax(obj)
    if syntax is not None:
        return _custom(obj, syntax, expression)
    raise NotACondition(obj, _advice(obj), expression)


def _custom(func: Any, syntax: str, expression: str | None) -> Condition:
    from tui_sched.conditions.custom import FuncCond

    try:
        inspect.signature(func).bind()
    except TypeError:
        raise NotACondition(
            func, f"the custom condition {operand_name(func)} needs arguments, so it "
            f"cannot stand alone; write it in a condition string with its arguments "
            f"(its syntax is {syntax!r})", expression) from None
    except ValueError:  # no signature to inspect (some builtins): let a call tell
        pass
    # The function rides along for conditions made with conds.condition(), which no app
    # registers; a registered one is looked up by its syntax first.
    return FuncCond(syntax, func=getattr(func, "__wrapped__", func))


def _advice(obj: object) -> str:
    name = operand_name(obj)
    task = getattr(obj, _TASK_ATTR, None) if callable(obj) else None
    if isinstance(task, str):
        return (f"{name} is a task, not a condition; to run after it, use "
                f"after_success({name}) from tui_sched.conds (string: "
                f"\"after task '{task}'\")")
    if callable(obj):
        return (f"{name} is a plain function, not a condition; register it as a custom "
                "condition by putting @app.cond() above its def (it must take no "
                "arguments and return True or False), or use a condition from "
                "tui_sched.conds")
    if isinstance(obj, str):
        return (f"{obj!r} is a string, not a condition object; write the whole condition "
                f"as one string, or parse this part with tui_sched.parse_condition({obj!r})")
    if isinstance(obj, bool):
        return (f"{obj!r} is not a condition; use tui_sched.conds.{str(obj).lower()} (or "
                f"the string '{str(obj).lower()}')")
    return (f"{name} (of type {type(obj).__name__}) is not a condition; combine conditions from "
            "tui_sched.conds (daily, every('10 seconds'), after_success('x') ...) or "
            "functions registered with @app.cond()")


#: A task named by its name or by the function it is made from (Rocketry style).
TaskRef = str | Callable[..., Any]


def task_name(ref: object) -> str:
    """The task name ``ref`` stands for: a name, or a task function (DESIGN §6.3).

    A function decorated with ``@app.task`` carries its task's name; any other function
    stands for the task named after it, as function tasks are named (a condition that
    names a task which does not exist is reported when the folder is loaded).

    Raises:
        TypeError: ``ref`` is neither.
    """
    if isinstance(ref, str):
        return ref
    if callable(ref):
        name = getattr(ref, _TASK_ATTR, None)
        if isinstance(name, str):
            return name
        own = getattr(ref, "__name__", None)
        if isinstance(own, str):
            return own
    raise TypeError(f"a task is given by its name or its function, not {ref!r}")

