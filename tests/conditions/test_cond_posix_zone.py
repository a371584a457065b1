"""A POSIX TZ string is the zone it describes, DST rule included (issue 17 item 14);
how ``TZ`` and the configuration are read is in ``tests/test_timezone.py``."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from condtest import run_instants

from tui_sched.conditions import parse_condition
from tui_sched.conditions.localtime import to_epoch
from tui_sched.engine.timezone import parse_timezone

BERLIN_POSIX = "CET-1CEST,M3.5.0,M10.5.0/3"
BERLIN = ZoneInfo("Europe/Berlin")


def test_a_posix_tz_string_is_the_zone_it_describes() -> None:
    zone = parse_timezone(BERLIN_POSIX)
    assert zone is not None
    # Every quarter hour of 2024, the offset and the name match the IANA zone ...
    t = datetime(2024, 1, 1, tzinfo=BERLIN).timestamp()
    end = datetime(2025, 1, 1, tzinfo=BERLIN).timestamp()
    while t < end:
        ours, iana = datetime.fromtimestamp(t, zone), datetime.fromtimestamp(t, BERLIN)
        assert (ours.utcoffset(), ours.tzname(), ours.fold) == (
            iana.utcoffset(), iana.tzname(), iana.fold), ours
        t += 900
    # ... and so do wall times in the spring gap and the autumn overlap.
    for wall in (datetime(2024, 3, 31, 2, 30), datetime(2024, 10, 27, 2, 30)):
        assert to_epoch(wall, zone) == to_epoch(wall, BERLIN)


@pytest.mark.parametrize("text", ["daily at 02:00", "cron 30 2 * * *", "hourly"])
@pytest.mark.parametrize("day", ["2024-03-31", "2024-10-27"])
def test_conditions_in_a_posix_zone_run_as_in_the_iana_zone(text: str, day: str) -> None:
    zone = parse_timezone(BERLIN_POSIX)
    assert zone is not None
    start = datetime.fromisoformat(day).replace(tzinfo=BERLIN).timestamp()
    end = start + timedelta(days=1).total_seconds()

    def runs(tz: tzinfo) -> list[float]:
        return run_instants(parse_condition(text), tz, start, end, ran_before=start - 60)

    assert runs(zone) == runs(BERLIN)
