"""The short text a run's history row shows for its return value.

``repr(value)[:200]`` builds the whole ``repr`` first: 100 MB and most of a second for a
list of ten million numbers, on whichever thread asked. ``summarise`` walks the built-in
containers itself and stops as soon as it has ``limit`` characters, so its cost and
memory are bounded by the limit, not by the value. Within the limit the text is what
``repr`` gives. Other objects use their own ``repr`` (bounded for the usual large ones:
NumPy arrays, data frames), strings and bytes only a prefix.
"""

from __future__ import annotations

from typing import Any

SUMMARY_CHARS = 200
"""Characters of a return value kept in the history."""

_SEQUENCES: dict[type, tuple[str, str]] = {list: ("[", "]"), tuple: ("(", ")"),
                                           set: ("{", "}"), frozenset: ("frozenset({", "})")}
_EMPTY: dict[type, str] = {dict: "{}", list: "[]", tuple: "()", set: "set()",
                           frozenset: "frozenset()"}


class _Full(Exception):
    """The text reached the limit: stop walking the value."""


class _Text:
    """Collects pieces until ``limit`` characters, then raises ``_Full``."""

    __slots__ = ("left", "parts")

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.left = limit

    def add(self, piece: str) -> None:
        if len(piece) >= self.left:
            self.parts.append(piece[:self.left])
            self.left = 0
            raise _Full
        self.parts.append(piece)
        self.left -= len(piece)


def summarise(value: Any, limit: int = SUMMARY_CHARS) -> str | None:
    """At most ``limit`` characters of ``repr(value)``, built in bounded time and memory
    for built-in containers, strings and bytes (``None`` for ``None``).

    Never raises: a ``repr`` that fails gives ``<TypeName>``.
    """
    if value is None:
        return None
    text = _Text(limit)
    try:
        _walk(value, text, limit, set())
    except _Full:
        pass
    except Exception:
        return f"<{type(value).__name__}>"
    return "".join(text.parts)


def _walk(value: Any, text: _Text, limit: int, path: set[int]) -> None:
    kind = type(value)
    if kind is str or kind is bytes or kind is bytearray:
        # A prefix (one more than fits, so that a cut shows): the quotes ``repr`` picks
        # depend on the whole string, so a very long one may differ in them alone.
        text.add(repr(value[:limit + 1] if len(value) > limit else value))
        return
    if kind is dict:
        opening, closing = "{", "}"
    elif kind in _SEQUENCES:
        opening, closing = _SEQUENCES[kind]
    else:
        text.add(repr(value))
        return
    if id(value) in path:  # a container that holds itself, shown as ``repr`` shows it
        text.add(opening + "..." + closing)
        return
    if not value:
        text.add(_EMPTY[kind])
        return
    path.add(id(value))
    text.add(opening)
    if kind is dict:
        for i, (key, item) in enumerate(value.items()):
            if i:
                text.add(", ")
            _walk(key, text, limit, path)
            text.add(": ")
            _walk(item, text, limit, path)
    else:
        for i, item in enumerate(value):
            if i:
                text.add(", ")
            _walk(item, text, limit, path)
    text.add("," + closing if kind is tuple and len(value) == 1 else closing)
    path.discard(id(value))
