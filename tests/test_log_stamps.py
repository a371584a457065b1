"""The headless log's time stamps: each line carries its event's local time to the
second, exactly as ``datetime.fromtimestamp(at, tz)`` formats it, whatever order the
events come in (the printer reuses the stamp of a second it has just formatted)."""

from __future__ import annotations

import io
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tui_sched.engine import events as ev
from tui_sched.headless import LinePrinter

#: 2026-10-25 00:30 UTC, 02:30 in Berlin: 02:00-03:00 comes twice that night (the fold).
FOLD = 1792888200.0
EDGES = (0.0, 0.25, 0.5, 0.999998, 0.9999994, 0.9999995, 0.9999996, 0.999999, 0.99999999)


def stamps_of(printer_out: io.StringIO) -> list[str]:
    return [line[:19] for line in printer_out.getvalue().splitlines()]


@pytest.mark.parametrize("zone", [None, "UTC", "Europe/Berlin", "Asia/Kolkata"])
def test_each_line_has_its_own_second_in_the_zone(zone: str | None) -> None:
    tz = ZoneInfo(zone) if zone else None
    times = [FOLD + s + f for s in range(-3700, 3700, 599) for f in EDGES]
    times += [FOLD + 1799 + f for f in EDGES] + [FOLD + 1800 + f for f in EDGES]
    random.Random(23).shuffle(times)
    # A run of lines in one second, then back: the reused stamp must not leak.
    times += [FOLD + 5.1, FOLD + 5.9, FOLD + 5.9999999, FOLD + 6.0, FOLD + 5.2]
    out = io.StringIO()
    printer = LinePrinter(out, tz)
    for at in times:
        printer(ev.SchedulerStarted(at=at, tasks=1))
    assert stamps_of(out) == [datetime.fromtimestamp(at, tz).strftime("%Y-%m-%d %H:%M:%S")
                              for at in times]
