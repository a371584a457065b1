"""The condition node interface and the logical combinators.

Every condition is a frozen, hashable value with three duties (``check`` is the first
two in one call):

* ``evaluate(ctx)``: its truth now;
* ``next_change(ctx)``: the earliest instant after ``ctx.now`` at which its truth may
  change *by the passage of time alone* (``None``: only a run event can change it). The
  engine sleeps until the earliest of these instead of polling;
* ``task_refs()``: the other tasks whose runs it reads, so the engine re-evaluates it
  only when one of those tasks starts or finishes (a task's own runs always count).

``str(cond)`` is the canonical string form; parsing it gives an equal condition.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

from tui_sched.conditions.context import Context
from tui_sched.conditions.operands import as_condition, operand_name
from tui_sched.frozen import value


def earliest(*times: float | None) -> float | None:
    """The smallest of the given instants, ignoring ``None``."""
    present = [t for t in times if t is not None]
    return min(present) if present else None


class Condition(ABC):
    """Base of every condition node."""

    __slots__ = ()

    #: Binding strength in the string form; atoms bind tightest.
    precedence: ClassVar[int] = 100

    @abstractmethod
    def evaluate(self, ctx: Context) -> bool:
        """Whether the condition holds at ``ctx.now``."""

    def next_change(self, ctx: Context) -> float | None:
        """Earliest instant after ``ctx.now`` at which the truth may change by time alone."""
        return None

    def check(self, ctx: Context) -> tuple[bool, float | None]:
        """``evaluate`` and, when it does not hold, ``next_change``, in one call: what
        the engine asks of a start condition. A node that can answer both from one
        reading of its inputs overrides it (``every``: twice per run)."""
        if self.evaluate(ctx):
            return True, None
        return False, self.next_change(ctx)

    def task_refs(self) -> frozenset[str]:
        """Names of other tasks whose runs this condition reads."""
        refs: frozenset[str] = frozenset()
        for child in self.children():
            refs |= child.task_refs()
        return refs

    def children(self) -> tuple[Condition, ...]:
        """Sub-conditions (for the explanation tree)."""
        return ()

    # The other operand may be a function registered with ``@app.cond()`` (Rocketry's
    # ``daily & is_foo``); anything else that is not a condition is refused here, where
    # the user wrote it, rather than when the engine first evaluates it.
    def __and__(self, other: object) -> Condition:
        return All.of(self, _operand(other, self, "&"))

    def __rand__(self, other: object) -> Condition:
        return All.of(_operand(other, self, "&", left=True), self)

    def __or__(self, other: object) -> Condition:
        return Any_.of(self, _operand(other, self, "|"))

    def __ror__(self, other: object) -> Condition:
        return Any_.of(_operand(other, self, "|", left=True), self)

    def __invert__(self) -> Condition:
        return Not(self)

    def observe(self, task: object = None, session: object = None) -> bool:
        """Rocketry's ``cond.observe()``: whether it holds now, for tests.

        Args:
            task: The task whose condition it is (a name, a task function or a task),
                for conditions about "this task" (``daily``, ``running``).
            session: The session whose runs, parameters and custom conditions it reads
                (``app.session``); it answers from the running scheduler when there is
                one. Without it, no task has run.
        """
        if session is not None:
            observe = getattr(session, "observe", None)
            if observe is None:
                raise TypeError(f"observe(session=...) takes a tui-sched session, not {session!r}")
            return bool(observe(self, task))
        from datetime import datetime
        from time import time

        from tui_sched.conditions.context import NoRuns
        from tui_sched.conditions.operands import task_name

        name = None if task is None else _task_name_of(task, task_name)
        tz = datetime.now().astimezone().tzinfo
        assert tz is not None
        return self.evaluate(Context(time(), tz, name, NoRuns()))

    def __bool__(self) -> bool:
        # A condition object in an `if` is almost always a bug (`a and b` instead of `a & b`).
        raise TypeError("use & | ~ to combine conditions, not and/or/not")

    @abstractmethod
    def __str__(self) -> str:
        """The canonical string form."""


def _task_name_of(task: object, task_name: Callable[[object], str]) -> str:
    """A task's name from a name, a task function or a task object."""
    name = getattr(task, "name", None)
    if isinstance(name, str) and not callable(task):
        return name
    return task_name(task)


def _operand(other: object, cond: Condition, op: str, left: bool = False) -> Condition:
    if isinstance(other, Condition):
        return other
    sides = [str(cond), operand_name(other)]
    if left:
        sides.reverse()
    return as_condition(other, f" {op} ".join(sides))


def _conditions(items: tuple[object, ...], op: str) -> tuple[Condition, ...]:
    """``items`` as conditions (registered functions converted), or a clear error."""
    if all(isinstance(c, Condition) for c in items):
        return items  # type: ignore[return-value]
    expression = f" {op} ".join(str(c) if isinstance(c, Condition) else operand_name(c)
                                for c in items)
    return tuple(as_condition(c, expression) for c in items)


def _wrap(child: Condition, parent_precedence: int) -> str:
    text = str(child)
    return f"({text})" if child.precedence <= parent_precedence else text


@value
class AlwaysTrue(Condition):
    """``true``: always holds."""

    def evaluate(self, ctx: Context) -> bool:
        return True

    def __str__(self) -> str:
        return "true"


@value
class AlwaysFalse(Condition):
    """``false``: never holds."""

    def evaluate(self, ctx: Context) -> bool:
        return False

    def __str__(self) -> str:
        return "false"


@value
class All(Condition):
    """``a & b & ...``: all hold."""

    items: tuple[Condition, ...]
    precedence: ClassVar[int] = 20

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", _conditions(self.items, "&"))

    @classmethod
    def of(cls, *conds: Condition) -> Condition:
        """Flatten nested ``All`` nodes so ``a & b & c`` is one node."""
        items: list[Condition] = []
        for c in conds:
            items.extend(c.items if isinstance(c, All) else (c,))
        return cls(tuple(items))

    def evaluate(self, ctx: Context) -> bool:
        return all(c.evaluate(ctx) for c in self.items)

    def next_change(self, ctx: Context) -> float | None:
        return earliest(*(c.next_change(ctx) for c in self.items))

    def children(self) -> tuple[Condition, ...]:
        return self.items

    def __str__(self) -> str:
        return " & ".join(_wrap(c, self.precedence) for c in self.items)


@value
class Any_(Condition):
    """``a | b | ...``: at least one holds."""

    items: tuple[Condition, ...]
    precedence: ClassVar[int] = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", _conditions(self.items, "|"))

    @classmethod
    def of(cls, *conds: Condition) -> Condition:
        """Flatten nested ``Any_`` nodes so ``a | b | c`` is one node."""
        items: list[Condition] = []
        for c in conds:
            items.extend(c.items if isinstance(c, Any_) else (c,))
        return cls(tuple(items))

    def evaluate(self, ctx: Context) -> bool:
        return any(c.evaluate(ctx) for c in self.items)

    def next_change(self, ctx: Context) -> float | None:
        return earliest(*(c.next_change(ctx) for c in self.items))

    def children(self) -> tuple[Condition, ...]:
        return self.items

    def __str__(self) -> str:
        return " | ".join(_wrap(c, self.precedence) for c in self.items)


@value
class Not(Condition):
    """``~a``: ``a`` does not hold."""

    item: Condition
    precedence: ClassVar[int] = 30

    def __post_init__(self) -> None:
        if not isinstance(self.item, Condition):
            object.__setattr__(self, "item",
                               as_condition(self.item, f"~{operand_name(self.item)}"))

    def evaluate(self, ctx: Context) -> bool:
        return not self.item.evaluate(ctx)

    def next_change(self, ctx: Context) -> float | None:
        return self.item.next_change(ctx)

    def children(self) -> tuple[Condition, ...]:
        return (self.item,)

    def __str__(self) -> str:
        return "~" + _wrap(self.item, self.precedence - 1)
