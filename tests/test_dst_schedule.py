"""The engine across a spring-forward night: every condition follows one DST rule
(DESIGN §3.2, issue 17 item 9). The fine-grained matrix is in
``tests/conditions/test_cond_dst_rule.py``; this is what a user sees in the history."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from harness import EngineRunner

from tui_sched import App
from tui_sched.engine.clock import FakeClock

BERLIN = ZoneInfo("Europe/Berlin")


def noop() -> None:
    return None


def test_windows_in_the_spring_gap_run_at_the_first_valid_time_like_cron() -> None:
    app = App(state_dir=None)
    conditions = {
        "at": "daily at 02:00",
        "between": "daily between 02:00 and 03:00",
        "time_of_day": "daily & time of day between 02:15 and 02:45",
        "cron": "cron 30 2 * * *",
    }
    for name, cond in conditions.items():
        app.task(cond, func=noop, execution="main", name=name)
    midnight = datetime(2024, 3, 31, 0, 0, tzinfo=BERLIN)  # clocks go 02:00 -> 03:00
    with EngineRunner(app.session, clock=FakeClock(midnight), tz=BERLIN) as r:
        for _ in range(5 * 4):  # five hours in 15-minute steps: 06:00 wall time
            r.advance(900)
        r.sync()
        starts = {name: [datetime.fromtimestamp(run.start, BERLIN).strftime("%H:%M")
                         for run in r.starts(name)] for name in conditions}
    assert starts == {name: ["03:00"] for name in conditions}
