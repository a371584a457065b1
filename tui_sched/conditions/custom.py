"""Custom conditions: user functions addressed by a syntax of their own.

``@app.cond("is foo")`` registers a function under a *syntax*: a regular expression that
must match a whole phrase (its groups become arguments: positional groups as positional
arguments, named groups as keyword arguments), or a bare name used with call syntax
(``file_exists("x.csv")``). The parser tries them for phrases the built-in language does
not know; the engine passes the same registry to the ``Context`` so that ``FuncCond`` can
call the function by its syntax.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import field
from typing import Any, TypeVar

from tui_sched.conditions.base import Condition
from tui_sched.conditions.context import Context
from tui_sched.conditions.operands import mark_condition
from tui_sched.conditions.text import quote
from tui_sched.frozen import value

F = TypeVar("F", bound=Callable[..., Any])
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@value
class FuncCond(Condition):
    """A custom condition: ``ctx.custom[name](*args, **kwargs)``.

    Attributes:
        name: The syntax the function was registered under.
        args: Positional arguments (regex groups or call arguments).
        kwargs: Keyword arguments (named regex groups), sorted by name.
        text: The phrase as written (for ``str``); not part of equality.
    """

    name: str
    args: tuple[str | int | float, ...] = ()
    kwargs: tuple[tuple[str, str], ...] = ()
    text: str | None = field(default=None, compare=False)

    def evaluate(self, ctx: Context) -> bool:
        func = ctx.custom.get(self.name)
        if func is None:
            raise LookupError(f"no custom condition registered as {self.name!r}")
        return bool(func(*self.args, **dict(self.kwargs)))

    def next_change(self, ctx: Context) -> float | None:
        # A user function may change its answer at any time: poll it.
        return ctx.now + ctx.poll_interval

    def __str__(self) -> str:
        if self.text is not None:
            return self.text
        if _NAME.fullmatch(self.name) and not self.kwargs:
            args = ", ".join(quote(a) if isinstance(a, str) else repr(a) for a in self.args)
            return f"{self.name}({args})" if self.args else self.name
        return self.name


class CustomConditions(Mapping[str, Callable[..., Any]]):
    """The custom conditions of one ``App``: syntax -> function, in registration order.

    It is the mapping both ``parse_condition(text, custom=...)`` and ``Context(custom=...)``
    take.

    >>> custom = CustomConditions()
    >>> @custom.cond(r"file (.+) exists")
    ... def file_exists(path): return path == "x.csv"
    >>> from tui_sched.conditions import parse_condition
    >>> parse_condition("file x.csv exists", custom)
    FuncCond(name='file (.+) exists', args=('x.csv',), kwargs=(), text='file x.csv exists')
    """

    def __init__(self) -> None:
        self._funcs: dict[str, Callable[..., Any]] = {}

    def register(self, syntax: str, func: Callable[..., Any]) -> None:
        """Register ``func`` under ``syntax`` (a regular expression or a bare name).

        Raises:
            ValueError: The syntax is taken, or is not a valid regular expression.
        """
        if syntax in self._funcs:
            raise ValueError(f"a custom condition {syntax!r} is already registered")
        try:
            re.compile(syntax)
        except re.error as exc:
            raise ValueError(f"custom condition syntax {syntax!r} is not a valid regular "
                             f"expression: {exc}") from exc
        self._funcs[syntax] = func
        mark_condition(func, syntax)

    def cond(self, syntax: str) -> Callable[[F], F]:
        """Decorator form of ``register``; returns the function unchanged."""
        def decorate(func: F) -> F:
            self.register(syntax, func)
            return func
        return decorate

    def __getitem__(self, syntax: str) -> Callable[..., Any]:
        return self._funcs[syntax]

    def __iter__(self) -> Iterator[str]:
        return iter(self._funcs)

    def __len__(self) -> int:
        return len(self._funcs)


def match_phrase(custom: Mapping[str, Callable[..., Any]], text: str) -> FuncCond | None:
    """The custom condition whose syntax matches the whole phrase ``text``, if any."""
    for syntax in custom:
        if _NAME.fullmatch(syntax) and text.lower() == syntax.lower():
            return FuncCond(syntax, text=text)
        m = re.fullmatch(syntax, text, re.IGNORECASE)
        if m is not None:
            named = m.groupdict()
            if named:
                return FuncCond(syntax, kwargs=tuple(sorted(named.items())), text=text)
            return FuncCond(syntax, tuple(g for g in m.groups() if g is not None), text=text)
    return None
