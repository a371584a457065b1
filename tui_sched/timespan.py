"""Parse human time spans such as ``"10 seconds"``, ``"1 hour 30 minutes"`` or ``"10s"``.

The forms follow Rocketry's: a number followed by a unit, repeated, optionally separated
by commas or ``and``; units may be abbreviated (``ms``, ``s``, ``m``/``min``, ``h``,
``d``, ``w``). A bare number is seconds.
"""

from __future__ import annotations

import re
from datetime import timedelta

from tui_sched.errors import ConfigError

_UNITS: dict[str, float] = {}
for _names, _secs in (
    (("ms", "millisecond", "milliseconds", "msec", "msecs"), 0.001),
    (("s", "sec", "secs", "second", "seconds"), 1.0),
    (("m", "min", "mins", "minute", "minutes"), 60.0),
    (("h", "hr", "hrs", "hour", "hours"), 3600.0),
    (("d", "day", "days"), 86400.0),
    (("w", "week", "weeks"), 604800.0),
):
    for _n in _names:
        _UNITS[_n] = _secs

UNIT_WORDS = frozenset(_UNITS)

_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)?\s*(?:,|\band\b)?", re.IGNORECASE)


def parse_span(text: str | float | int | timedelta) -> float:
    """Return the number of seconds a span denotes.

    Args:
        text: ``"10 seconds"``, ``"1h 30m"``, ``"2 days, 12 hours"``, a number of
            seconds, or a ``timedelta``.

    Returns:
        The span in seconds (a float).

    Raises:
        ConfigError: If the text is not a span.

    >>> parse_span("1 hour 30 minutes")
    5400.0
    >>> parse_span("300 ms")
    0.3
    """
    if isinstance(text, timedelta):
        return text.total_seconds()
    if isinstance(text, bool):
        raise ConfigError(f"not a time span: {text!r}")
    if isinstance(text, int | float):
        return float(text)
    s = text.strip()
    if not s:
        raise ConfigError("empty time span")
    total = 0.0
    pos = 0
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m or m.end() == pos:
            raise ConfigError(f"not a time span: {text!r} (e.g. '10 seconds', '1h 30m')")
        number, unit = m.group(1), m.group(2)
        if unit is None:
            factor = 1.0
        else:
            key = unit.lower()
            if key not in _UNITS:
                raise ConfigError(f"unknown time unit {unit!r} in {text!r}")
            factor = _UNITS[key]
        total += float(number) * factor
        pos = m.end()
    return total


def format_span(seconds: float) -> str:
    """Return a canonical, parseable form of a span, e.g. ``"1 hour 30 minutes"``.

    >>> format_span(5400)
    '1 hour 30 minutes'
    """
    if seconds < 0:
        raise ValueError("negative span")
    parts: list[str] = []
    ms_total = round(seconds * 1000)
    for name, unit_ms in (("day", 86_400_000), ("hour", 3_600_000), ("minute", 60_000),
                          ("second", 1000), ("millisecond", 1)):
        q, ms_total = divmod(ms_total, unit_ms)
        if q:
            parts.append(f"{q} {name}{'s' if q != 1 else ''}")
    return " ".join(parts) if parts else "0 seconds"
