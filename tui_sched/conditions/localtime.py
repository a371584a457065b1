"""Wall-clock arithmetic in the session time zone, with the DST rules of DESIGN §3.2.

Calendar conditions reason in *naive local wall time* (where a day always has 24 hours and
a month its calendar length) and convert to epoch seconds only at the end, through
``to_epoch``. That single conversion is where the DST rules live:

* a wall time inside a spring-forward gap does not exist; it maps to the first valid
  instant after it (the moment of the transition);
* a wall time inside an autumn overlap exists twice; it maps to the first occurrence.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo

#: Calendar units, finest first.
UNITS = ("second", "minute", "hour", "day", "week", "month")

_FIXED = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}


def local_naive(now: float, tz: tzinfo) -> datetime:
    """``now`` as a naive wall-clock datetime in ``tz``."""
    return datetime.fromtimestamp(now, tz).replace(tzinfo=None)


def to_epoch(naive: datetime, tz: tzinfo) -> float:
    """Epoch seconds of a wall-clock time in ``tz`` (gap: next valid instant; overlap: first).

    >>> from zoneinfo import ZoneInfo
    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> gap = to_epoch(datetime(2024, 3, 31, 2, 30), berlin)   # 02:30 does not exist
    >>> local_naive(gap, berlin)
    datetime.datetime(2024, 3, 31, 3, 0)
    """
    ts = naive.replace(tzinfo=tz, fold=0).timestamp()
    if local_naive(ts, tz) == naive:
        return ts  # exists (fold=0 is the first occurrence of a repeated time)
    # In a gap: the two folds bracket the transition; bisect on whole seconds (zone
    # transitions happen on whole seconds) for the first instant at or after `naive`.
    other = naive.replace(tzinfo=tz, fold=1).timestamp()
    lo, hi = math.floor(min(ts, other)), math.ceil(max(ts, other))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if local_naive(mid, tz) >= naive:
            hi = mid
        else:
            lo = mid
    return float(hi)


def floor(dt: datetime, unit: str) -> datetime:
    """The start of the ``unit`` containing ``dt`` (weeks start on Monday)."""
    if unit == "second":
        return dt.replace(microsecond=0)
    if unit == "minute":
        return dt.replace(second=0, microsecond=0)
    if unit == "hour":
        return dt.replace(minute=0, second=0, microsecond=0)
    day = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown unit {unit!r}")


def step(anchor: datetime, unit: str, k: int) -> datetime:
    """The start of the ``unit`` ``k`` units after the one starting at ``anchor``."""
    if unit == "month":
        years, month0 = divmod(anchor.month - 1 + k, 12)
        return anchor.replace(year=anchor.year + years, month=month0 + 1)
    return anchor + k * _FIXED[unit]


def length(anchor: datetime, unit: str) -> int:
    """Wall-clock seconds in the ``unit`` starting at ``anchor`` (months vary)."""
    return int((step(anchor, unit, 1) - anchor).total_seconds())
