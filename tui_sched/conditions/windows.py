"""Windows within a calendar unit: ``between 10:00 and 12:00`` of a day, ``on Monday`` of a
week, ``starting 10:00`` ...; the occurrences of such a window in real (epoch) time.

A window is stored by the values the user wrote, as wall-clock offsets in seconds from the
start of its unit, so ``str()`` can print them back. Clock values (``10:00``) mark an
instant, so an end written as a clock value is exclusive; named values (``Friday``,
``5th``) mark a whole day, so an end written as a name includes that day.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from tui_sched.conditions.localtime import floor, length, local_naive, step, to_epoch
from tui_sched.frozen import value

Unit = Literal["second", "minute", "hour", "day", "week", "month"]
Kind = Literal["full", "between", "after", "before", "starting", "on"]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY_ALIASES = {
    **{d.lower(): i for i, d in enumerate(WEEKDAYS)},
    **{d[:3].lower(): i for i, d in enumerate(WEEKDAYS)},
    "tues": 1, "wed": 2, "thur": 3, "thurs": 3,
}
_DAY = 86_400

#: What one ``on X`` covers, per unit: an hour of a day (as Rocketry), a day of a week or
#: month, a minute of an hour, a second of a minute.
_POINT = {"minute": 1, "hour": 60, "day": 3600, "week": _DAY, "month": _DAY}

#: What a value of each unit looks like, for error messages.
VALUE_HINT = {
    "minute": "a second of the minute such as 15",
    "hour": "a minute of the hour such as 15:00 (mm:ss)",
    "day": "a time of day such as 10:00",
    "week": "a weekday such as Monday",
    "month": "a day of the month such as 1st (or 1.)",
}

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_ORDINAL = re.compile(r"(\d{1,2})(?:st|nd|rd|th|\.)?", re.IGNORECASE)


def parse_value(unit: str, text: str) -> int:
    """The offset in seconds from the start of ``unit`` that ``text`` names.

    Raises:
        ValueError: ``text`` is not a value of ``unit`` (the message says what is).

    >>> parse_value("day", "10:30")
    37800
    >>> parse_value("week", "Tue")
    86400
    """
    text = text.strip()
    bad = ValueError(f"expected {VALUE_HINT.get(unit, 'no value')}, got {text!r}")
    if unit == "day":
        m = _CLOCK.fullmatch(text)
        if not m:
            raise bad
        h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
        if mi > 59 or s > 59 or h > 24 or (h == 24 and (mi or s)):
            raise bad
        return h * 3600 + mi * 60 + s
    if unit == "hour":
        m = _CLOCK.fullmatch(text)
        if not m or m[3] is not None or int(m[1]) > 60 or int(m[2]) > 59:
            raise bad
        return int(m[1]) * 60 + int(m[2])
    if unit == "minute":
        if not text.isdigit() or int(text) > 60:
            raise bad
        return int(text)
    if unit == "week":
        if text.lower() not in _WEEKDAY_ALIASES:
            raise bad
        return _WEEKDAY_ALIASES[text.lower()] * _DAY
    if unit == "month":
        m = _ORDINAL.fullmatch(text)
        if not m or not 1 <= int(m[1]) <= 31:
            raise bad
        return (int(m[1]) - 1) * _DAY
    raise bad


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``11th``, ``23rd``..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def format_value(unit: str, offset: int) -> str:
    """The canonical text of an offset (inverse of ``parse_value``)."""
    if unit == "day":
        h, rest = divmod(offset, 3600)
        mi, s = divmod(rest, 60)
        return f"{h:02d}:{mi:02d}" + (f":{s:02d}" if s else "")
    if unit == "hour":
        mi, s = divmod(offset, 60)
        return f"{mi:02d}:{s:02d}"
    if unit == "minute":
        return str(offset)
    if unit == "week":
        return WEEKDAYS[offset // _DAY]
    if unit == "month":
        return ordinal(offset // _DAY + 1)
    raise ValueError(f"unit {unit!r} has no values")


@value
class Window:
    """A recurring window within each ``unit``.

    Attributes:
        unit: The calendar unit the window repeats in.
        kind: ``full`` (the whole unit), ``between``, ``after``, ``before``, ``starting``
            (the whole unit, but beginning at ``start``) or ``on`` (one sub-unit).
        start: Offset of the start value in seconds from the start of the unit.
        end: Offset of the end value (as written; see the module docstring).
    """

    unit: Unit
    kind: Kind = "full"
    start: int | None = None
    end: int | None = None

    @classmethod
    def of(cls, unit: Unit, kind: Kind = "full", start: str | None = None,
           end: str | None = None) -> Window:
        """Build a window from value texts (``Window.of("day", "between", "10:00", "12:00")``)."""
        return cls(unit, kind,
                   None if start is None else parse_value(unit, start),
                   None if end is None else parse_value(unit, end))

    # -- string form -----------------------------------------------------------------
    def variant_str(self) -> str:
        """`` between 10:00 and 12:00`` etc. (empty for the full unit)."""
        def fmt(v: int | None) -> str:
            assert v is not None
            return format_value(self.unit, v)

        if self.kind == "full":
            return ""
        if self.kind == "between":
            return f" between {fmt(self.start)} and {fmt(self.end)}"
        if self.kind == "on":
            word = "on" if self.unit in ("week", "month") else "at"
            return f" {word} {fmt(self.start)}"
        if self.kind == "before":
            return f" before {fmt(self.end)}"
        return f" {self.kind} {fmt(self.start)}"  # after, starting

    # -- occurrences -----------------------------------------------------------------
    def _offsets(self) -> tuple[int, int | None]:
        """Effective ``[start, end)`` offsets; ``None`` = the end of the unit."""
        inclusive = _DAY if self.unit in ("week", "month") else 0
        s = self.start or 0
        if self.kind == "full":
            return 0, None
        if self.kind == "after":
            return s, None
        if self.kind == "before":
            return 0, (self.end or 0) + inclusive
        if self.kind == "between":
            return s, (self.end or 0) + inclusive
        if self.kind == "starting":
            return s, s
        return s, s + _POINT[self.unit]  # on

    def occurrence(self, anchor: datetime, tz: tzinfo) -> tuple[float, float]:
        """The occurrence that begins in the unit starting at ``anchor`` (may be empty)."""
        s, e = self._offsets()
        size = length(anchor, self.unit)
        start = min(s, size)  # a day past the month's end clamps to the end
        if e is not None and s < e:
            ws = anchor + _secs(start)
            we = anchor + _secs(min(e, size))
        else:
            # Runs to the end of the unit, or crosses into the next one (22:00 - 02:00,
            # Friday - Monday, ``starting``): it ends in the following unit.
            nxt = step(anchor, self.unit, 1)
            ws = anchor + _secs(start)
            we = nxt if e is None else nxt + _secs(min(e, length(nxt, self.unit)))
        return _instants(ws, we, tz)

    def _around(self, now: float, tz: tzinfo, back: int, ahead: int) -> list[tuple[float, float]]:
        base = floor(local_naive(now, tz), self.unit)
        occ = [self.occurrence(step(base, self.unit, k), tz) for k in range(-back, ahead + 1)]
        return [o for o in occ if o[0] < o[1]]

    def current(self, now: float, tz: tzinfo) -> tuple[float, float] | None:
        """The occurrence ``[start, end)`` containing ``now``, if any (the latest to begin:
        a window moved out of a spring gap may overlap the next one)."""
        containing = [o for o in self._around(now, tz, 2, 1) if o[0] <= now < o[1]]
        return max(containing) if containing else None

    def latest(self, now: float, tz: tzinfo) -> tuple[float, float] | None:
        """The latest occurrence that has begun at ``now`` (current or past)."""
        begun = [o for o in self._around(now, tz, 3, 1) if o[0] <= now]
        return max(begun) if begun else None

    def next_start(self, now: float, tz: tzinfo) -> float | None:
        """The first occurrence start after ``now``."""
        # Look further ahead only when needed: a window may be empty in some units
        # (``on 31st`` in a 30-day month, an hour lost to DST).
        for ahead in (2, 8, 40):
            starts = [ws for ws, _ in self._around(now, tz, 1, ahead) if ws > now]
            if starts:
                return min(starts)
        return None

    def next_edge(self, now: float, tz: tzinfo) -> float | None:
        """When ``now`` next enters or leaves the window."""
        cur = self.current(now, tz)
        return cur[1] if cur is not None else self.next_start(now, tz)


def _instants(ws: datetime, we: datetime, tz: tzinfo) -> tuple[float, float]:
    """The instants ``[start, end)`` of the wall-clock window ``[ws, we)``.

    Both ends follow ``to_epoch`` (DESIGN §3.2). A window that lies wholly inside a
    spring gap would then be empty and silently never happen (``daily at 02:00`` on
    Berlin's spring day); like a cron time in the gap, it happens at the first valid time
    after the gap instead, and keeps its wall-clock length so that a busy engine still
    finds it open (``daily at 02:00`` is 03:00-04:00 that day).
    """
    start, end = to_epoch(ws, tz), to_epoch(we, tz)
    if start >= end and ws < we:
        end = start + (we - ws).total_seconds()
    return start, end


def _secs(n: int) -> timedelta:
    return timedelta(seconds=n)
