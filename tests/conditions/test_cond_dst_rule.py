"""One DST rule for every calendar condition (DESIGN §3.2, issue 17 item 9).

A local time that does not exist (spring gap) fires at the first valid time after it; a
local time that happens twice (autumn overlap) fires once, at its first occurrence. Cron
has always followed it; windows (``daily at``, ``daily between``, ``time of day``, ...)
must fire at exactly the instants the equivalent cron expression fires, in every zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from condtest import at, run_instants

from tui_sched.conditions import parse_condition

# zone, day, a wall time inside the gap / overlap, an hour starting in it, where the
# wall time fires (spring: the first valid time; autumn: the same wall time, fold 0)
SPRING = [
    ("Europe/Berlin", "2024-03-31", "02:30", 2, "03:00"),
    ("America/New_York", "2024-03-10", "02:30", 2, "03:00"),
    ("Australia/Lord_Howe", "2024-10-06", "02:15", 2, "02:30"),  # 30-minute shift
    ("Pacific/Chatham", "2024-09-29", "03:00", 3, "03:45"),  # at 02:45
]
AUTUMN = [
    ("Europe/Berlin", "2024-10-27", "02:30", 2),
    ("America/New_York", "2024-11-03", "01:30", 1),
    ("Australia/Lord_Howe", "2024-04-07", "01:45", 1),  # 01:30-02:00 happens twice
    ("Pacific/Chatham", "2024-04-07", "03:00", 3),  # 02:45-03:45 happens twice
]


def _forms(wall: str, hour: int) -> list[tuple[str, str, str]]:
    """(condition, the cron expression that fires at the same instants, the wall time
    it fires at on a day without DST)."""
    h, m = (int(x) for x in wall.split(":"))
    later = (datetime(2000, 1, 1, h, m) + timedelta(minutes=10)).strftime("%H:%M")
    at_hour = f"{hour:02d}:00"
    return [
        (f"daily at {at_hour}", f"cron 0 {hour} * * *", at_hour),
        (f"daily between {wall} and {later}", f"cron {m} {h} * * *", wall),
        (f"daily after {wall}", f"cron {m} {h} * * *", wall),
        (f"daily starting {wall}", f"cron {m} {h} * * *", wall),
        (f"hourly at {m:02d}:00", f"cron {m} * * * *", wall),
        (f"daily & time of day between {wall} and {later}", f"cron {m} {h} * * *", wall),
        (f"daily & time of day at {at_hour}", f"cron 0 {hour} * * *", at_hour),
        (f"daily & crontime {m} {h} * * *", f"cron {m} {h} * * *", wall),
    ]


def _day_runs(text: str, tz: str, day: str) -> list[float]:
    """Run instants of ``text`` over the local day, the task having run just before."""
    start = at(f"{day} 00:00", tz)
    nxt = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    return run_instants(parse_condition(text), tz, start, at(f"{nxt} 00:00", tz),
                        ran_before=start - 60)


_SPRING_CASES = [(tz, day, cond, cron, fires)
                 for tz, day, wall, hour, fires in SPRING
                 for cond, cron, _ in _forms(wall, hour)]
_AUTUMN_CASES = [(tz, day, wall, cond, cron, fires)
                 for tz, day, wall, hour in AUTUMN
                 for cond, cron, fires in _forms(wall, hour)]


@pytest.mark.parametrize(("tz", "day", "cond", "cron", "fires"), _SPRING_CASES)
def test_a_time_in_the_spring_gap_fires_at_the_first_valid_time(
    tz: str, day: str, cond: str, cron: str, fires: str
) -> None:
    expected = _day_runs(cron, tz, day)
    assert at(f"{day} {fires}", tz) in expected  # the rule, as cron applies it
    assert _day_runs(cond, tz, day) == expected


@pytest.mark.parametrize(("tz", "day", "wall", "cond", "cron", "fires"), _AUTUMN_CASES)
def test_a_time_in_the_autumn_overlap_fires_once_at_its_first_occurrence(
    tz: str, day: str, wall: str, cond: str, cron: str, fires: str
) -> None:
    assert at(f"{day} {wall}", tz, fold=1) > at(f"{day} {wall}", tz, fold=0)  # repeated
    expected = _day_runs(cron, tz, day)
    first, second = at(f"{day} {fires}", tz, fold=0), at(f"{day} {fires}", tz, fold=1)
    assert first in expected
    if second != first:  # the fire time is itself repeated: it fires once
        assert second not in expected
    assert _day_runs(cond, tz, day) == expected


@pytest.mark.parametrize(("tz", "day", "_w", "hour", "fires"), SPRING[:2])
def test_an_hour_wholly_in_the_gap_is_open_for_an_hour_from_the_first_valid_time(
    tz: str, day: str, _w: str, hour: int, fires: str
) -> None:
    """A busy engine that comes late still finds the window open (not a single instant)."""
    cond = parse_condition(f"time of day at {hour:02d}:00")
    opened = at(f"{day} {fires}", tz)
    assert _day_runs(f"daily & time of day at {hour:02d}:00", tz, day) == [opened]
    assert run_instants(cond, tz, opened + 3599, opened + 3600) == [opened + 3599]
    assert run_instants(cond, tz, opened + 3600, opened + 3601) == []


def test_a_window_moved_out_of_the_gap_does_not_swallow_the_next_one() -> None:
    """The 02:15-02:45 window of Berlin's lost hour opens at 03:00 and would last to
    03:30; the 03:15 window still opens at 03:15, as ``cron 15 * * * *`` fires."""
    day = "2024-03-31"
    tz = "Europe/Berlin"
    runs = _day_runs("hourly between 15:00 and 45:00", tz, day)
    assert runs == _day_runs("cron 15 * * * *", tz, day)
    assert [at(f"{day} 03:00", tz), at(f"{day} 03:15", tz)] == runs[2:4]  # after 00:15 and 01:15
