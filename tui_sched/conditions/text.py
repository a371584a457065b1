"""Small helpers for the canonical string form."""

from __future__ import annotations


def quote(name: str) -> str:
    """Quote a task name (or any string) for the condition language.

    Single quotes unless the name contains one; a name cannot contain both kinds.

    >>> quote("fetch"), quote("it's")
    ("'fetch'", '"it\\'s"')
    """
    if "'" not in name:
        return f"'{name}'"
    if '"' not in name:
        return f'"{name}"'
    raise ValueError(f"a name cannot contain both kinds of quote: {name!r}")


def norm_span(seconds: float) -> float:
    """A span rounded to the millisecond, the resolution of its string form, so that a
    node built from a number equals the one parsed back from its text."""
    if seconds < 0:
        raise ValueError("a time span cannot be negative")
    return round(float(seconds), 3)
