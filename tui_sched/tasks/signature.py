"""Find the argument markers in a function's signature (inspected once per function)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from tui_sched.tasks.args import Marker


@lru_cache(maxsize=16384)  # one entry per task function; 5,000 tasks must fit
def _inspect(func: Callable[..., Any]) -> tuple[tuple[tuple[str, Marker], ...], frozenset[str], bool]:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return (), frozenset(), True
    markers = tuple(
        (name, p.default) for name, p in sig.parameters.items() if isinstance(p.default, Marker)
    )
    names = frozenset(
        name for name, p in sig.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )
    var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    return markers, names, var_kw


def markers_of(func: Callable[..., Any]) -> tuple[tuple[str, Marker], ...]:
    """``(parameter, marker)`` for each parameter whose default is a marker."""
    try:
        return _inspect(func)[0]
    except TypeError:  # unhashable callable
        return _inspect.__wrapped__(func)[0]


def accepts(func: Callable[..., Any]) -> tuple[frozenset[str], bool]:
    """The keyword names ``func`` accepts, and whether it takes ``**kwargs``."""
    try:
        _, names, var_kw = _inspect(func)
    except TypeError:
        _, names, var_kw = _inspect.__wrapped__(func)
    return names, var_kw
