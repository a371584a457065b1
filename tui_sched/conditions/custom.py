"""Custom conditions: user functions addressed by a syntax of their own.

``@app.cond("is foo")`` registers a function under a *syntax*: a regular expression that
must match a whole phrase (its groups become arguments: positional groups as positional
arguments, named groups as keyword arguments), or a bare name used with call syntax
(``file_exists("x.csv")``). The parser tries them for phrases the built-in language does
not know; the engine passes the same registry to the ``Context`` so that ``FuncCond`` can
call the function by its syntax.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import field
from typing import Any, TypeVar

from tui_sched.conditions.base import Condition
from tui_sched.conditions.context import Context
from tui_sched.conditions.operands import mark_condition
from tui_sched.conditions.text import quote
from tui_sched.frozen import value

F = TypeVar("F", bound=Callable[..., Any])
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


#: The task whose condition a custom condition function is called for (``None``: no
#: task), so that an app can fill a ``Task()`` argument of the function (Rocketry's
#: ``def is_right_task(this_task=Task())``).
EVALUATED_FOR: ContextVar[str | None] = ContextVar("tui_sched_evaluated_for", default=None)


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
    kwargs: tuple[tuple[str, str | int | float], ...] = ()
    text: str | None = field(default=None, compare=False)
    func: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    """The function, when the condition was made by calling it (``file_exists("x")``),
    so that ``bool()`` of it answers at once, as in Rocketry."""

    def evaluate(self, ctx: Context) -> bool:
        func = ctx.custom.get(self.name) or self.func
        if func is None:
            raise LookupError(f"no custom condition registered as {self.name!r}")
        token = EVALUATED_FOR.set(ctx.task)
        try:
            return bool(func(*self.args, **dict(self.kwargs)))
        finally:
            EVALUATED_FOR.reset(token)

    def __bool__(self) -> bool:
        # Rocketry's FuncCond: `if file_exists("x.csv"):` calls the function.
        if self.func is None:
            return super().__bool__()
        return bool(self.func(*self.args, **dict(self.kwargs)))

    def next_change(self, ctx: Context) -> float | None:
        # A user function may change its answer at any time: poll it.
        return ctx.now + ctx.poll_interval

    def __str__(self) -> str:
        if self.text is not None:
            return self.text
        if _NAME.fullmatch(self.name):
            args = [_literal(a) for a in self.args]
            args += [f"{k}={_literal(v)}" for k, v in self.kwargs]
            return f"{self.name}({', '.join(args)})" if args else self.name
        return self.name


def _literal(arg: str | int | float) -> str:
    return quote(arg) if isinstance(arg, str) else repr(arg)


class ConditionFunction:
    """A function registered with ``@app.cond()``, as the decorator returns it.

    Called with arguments it is Rocketry's condition with those arguments
    (``daily & file_exists("data.csv")``, ``is_foo(x=1)``); called without, it runs
    the function, as before it was registered. On its own it is an operand of
    ``& | ~`` (``daily & is_foo``). Everything else (``__name__``, the signature) is
    the function's.
    """

    def __init__(self, func: Callable[..., Any], syntax: str) -> None:
        functools.update_wrapper(self, func)
        self.__wrapped__ = func
        self._syntax = syntax
        mark_condition(self, syntax)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs:
            return self.__wrapped__()
        return self.bind(*args, **kwargs)

    def bind(self, *args: Any, **kwargs: Any) -> FuncCond:
        """The condition with these arguments (what a call with arguments returns).

        Raises:
            TypeError: The function does not take them, or one is not a string or a
                number (a condition is a value that prints and parses back).
        """
        name = getattr(self.__wrapped__, "__name__", self._syntax)
        if not _NAME.fullmatch(self._syntax):
            raise TypeError(f"{name} is registered under the phrase {self._syntax!r}; "
                            "give its arguments in a condition string that matches it")
        try:
            inspect.signature(self.__wrapped__).bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{name}{_shown(args, kwargs)}: {exc}") from None
        except ValueError:  # no signature to inspect: let the call tell
            pass
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, bool) or not isinstance(arg, str | int | float):
                raise TypeError(f"{name}{_shown(args, kwargs)}: condition arguments are "
                                f"strings and numbers, not {type(arg).__name__}; read "
                                "other values inside the function")
        return FuncCond(self._syntax, tuple(args), tuple(sorted(kwargs.items())),
                        func=self.__wrapped__)

    def __repr__(self) -> str:
        return f"<condition {self._syntax!r}: {self.__wrapped__!r}>"


def _shown(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return "(" + ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())]) + ")"


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
