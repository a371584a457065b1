"""Period variants and ``time of ...`` windows: boundaries, crossings, month ends, DST."""

from __future__ import annotations

import pytest
from condtest import Statuses, at

from tui_sched import conds
from tui_sched.conditions import parse_condition
from tui_sched.conditions.base import Condition
from tui_sched.store.base import Outcome

WINDOW_FORMS = [
    ("daily between 10:00 and 12:00", conds.daily.between("10:00", "12:00")),
    ("daily after 10:00", conds.daily.after("10:00")),
    ("daily before 12:00", conds.daily.before("12:00")),
    ("daily starting 10:00", conds.daily.starting("10:00")),
    ("daily at 10:00", conds.daily.at("10:00")),
    ("weekly on Monday", conds.weekly.on("Monday")),
    ("weekly between Monday and Friday", conds.weekly.between("Mon", "Fri")),
    ("monthly on 1st", conds.monthly.on("1st")),
    ("monthly between 25th and 5th", conds.monthly.between("25th", "5th")),
    ("hourly between 15:00 and 45:00", conds.hourly.between("15:00", "45:00")),
    ("minutely after 30", conds.minutely.after("30")),
    ("time of day between 10:00 and 12:00", conds.time_of_day.between("10:00", "12:00")),
    ("time of week on Saturday", conds.time_of_week.on("sat")),
    ("time of month after 20th", conds.time_of_month.after("20th")),
    ("time of hour before 30:00", conds.time_of_hour.before("30:00")),
    ("time of minute between 0 and 15", conds.time_of_minute.between("0", "15")),
    ("time of day", conds.time_of_day),
]


@pytest.mark.parametrize(("text", "obj"), WINDOW_FORMS)
def test_window_forms_string_equals_object_and_round_trips(text: str, obj: Condition) -> None:
    cond = parse_condition(text)
    assert cond == obj
    assert str(cond) == text
    assert parse_condition(str(cond)) == cond


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("daily on 10:00", "daily at 10:00"), ("weekly at mon", "weekly on Monday"),
     ("weekly between mon and fri", "weekly between Monday and Friday"),
     ("daily between 9:05 and 9:06:30", "daily between 09:05 and 09:06:30"),
     ("monthly on 22", "monthly on 22nd")],
)
def test_window_values_are_normalised(text: str, canonical: str) -> None:
    assert str(parse_condition(text)) == canonical


def truth(text: str, when: str, tz: str = "UTC") -> bool:
    return parse_condition(text).evaluate(Statuses().ctx(at(when, tz), tz))


@pytest.mark.parametrize(
    ("text", "when", "expected"),
    [
        ("time of day between 10:00 and 12:00", "2024-05-15 09:59:59", False),
        ("time of day between 10:00 and 12:00", "2024-05-15 10:00:00", True),
        ("time of day between 10:00 and 12:00", "2024-05-15 11:59:59", True),
        ("time of day between 10:00 and 12:00", "2024-05-15 12:00:00", False),  # end excl.
        ("time of day between 22:00 and 02:00", "2024-05-15 23:00", True),  # crosses midnight
        ("time of day between 22:00 and 02:00", "2024-05-16 01:59", True),
        ("time of day between 22:00 and 02:00", "2024-05-16 02:00", False),
        ("time of day between 22:00 and 02:00", "2024-05-15 12:00", False),
        ("time of day after 22:00", "2024-05-15 23:59:59", True),
        ("time of day before 02:00", "2024-05-15 02:00", False),
        ("time of day at 10:00", "2024-05-15 10:59", True),  # an hour, as Rocketry
        ("time of day at 10:00", "2024-05-15 11:00", False),
        # 2024-05-17 is a Friday; a named end includes the whole day.
        ("time of week between Monday and Friday", "2024-05-17 23:59", True),
        ("time of week between Monday and Friday", "2024-05-18 00:00", False),
        ("time of week between Friday and Monday", "2024-05-20 12:00", True),  # weekend wrap
        ("time of week between Friday and Monday", "2024-05-21 00:00", False),
        ("time of week on Sunday", "2024-05-19 23:59", True),
        ("time of month between 1st and 5th", "2024-05-05 23:00", True),
        ("time of month between 1st and 5th", "2024-05-06 00:00", False),
        ("time of month between 25th and 5th", "2024-06-03 00:00", True),  # month wrap
        ("time of month on 31st", "2024-02-29 12:00", False),  # no 31st in February
        ("time of month on 31st", "2024-03-31 12:00", True),
        ("time of month on 29th", "2024-02-29 12:00", True),  # leap day
        ("time of month after 28th", "2023-02-28 23:59", True),
        ("time of hour between 15:00 and 45:00", "2024-05-15 10:44:59", True),
        ("time of hour between 15:00 and 45:00", "2024-05-15 10:45:00", False),
        ("time of minute between 0 and 15", "2024-05-15 10:44:14", True),
        ("time of minute between 0 and 15", "2024-05-15 10:44:15", False),
    ],
)
def test_window_truth(text: str, when: str, expected: bool) -> None:
    assert truth(text, when) is expected


@pytest.mark.parametrize(
    ("text", "when", "change"),
    [
        ("time of day between 10:00 and 12:00", "2024-05-15 09:00", "2024-05-15 10:00"),
        ("time of day between 10:00 and 12:00", "2024-05-15 11:00", "2024-05-15 12:00"),
        ("time of day between 10:00 and 12:00", "2024-05-15 13:00", "2024-05-16 10:00"),
        ("time of day between 22:00 and 02:00", "2024-05-15 23:00", "2024-05-16 02:00"),
        ("time of month on 31st", "2024-04-15 00:00", "2024-05-31 00:00"),  # skips April
        ("time of week on Monday", "2024-05-15 00:00", "2024-05-20 00:00"),
    ],
)
def test_window_next_change(text: str, when: str, change: str) -> None:
    cond = parse_condition(text)
    assert cond.next_change(Statuses().ctx(at(when))) == at(change)


def test_daily_between_runs_once_inside_the_window() -> None:
    s = Statuses()
    c = conds.daily.between("22:00", "02:00")
    assert not c.evaluate(s.ctx(at("2024-05-15 21:00")))
    assert c.next_change(s.ctx(at("2024-05-15 21:00"))) == at("2024-05-15 22:00")
    assert c.evaluate(s.ctx(at("2024-05-15 23:00")))
    s.finish("me", at("2024-05-15 23:00"), at("2024-05-15 23:01"), Outcome.SUCCESS)
    # After midnight it is still the same occurrence of the window: no second run.
    assert not c.evaluate(s.ctx(at("2024-05-16 01:00")))
    assert c.next_change(s.ctx(at("2024-05-16 01:00"))) == at("2024-05-16 22:00")
    assert c.evaluate(s.ctx(at("2024-05-16 22:00")))


def test_daily_starting_shifts_the_day() -> None:
    s = Statuses()
    c = conds.daily.starting("10:00")
    s.finish("me", at("2024-05-15 11:00"), at("2024-05-15 11:01"), Outcome.SUCCESS)
    assert not c.evaluate(s.ctx(at("2024-05-16 09:59")))  # still "yesterday's" day
    assert c.next_change(s.ctx(at("2024-05-16 09:59"))) == at("2024-05-16 10:00")
    assert c.evaluate(s.ctx(at("2024-05-16 10:00")))


def test_weekly_on_monday_and_monthly_on_first() -> None:
    s = Statuses()
    assert conds.weekly.on("Monday").evaluate(s.ctx(at("2024-05-20 08:00")))
    assert not conds.weekly.on("Monday").evaluate(s.ctx(at("2024-05-21 08:00")))
    assert conds.monthly.on("1st").evaluate(s.ctx(at("2024-06-01 08:00")))
    assert not conds.monthly.on("1st").evaluate(s.ctx(at("2024-06-02 08:00")))


def test_secondly_has_no_windows() -> None:
    with pytest.raises(ValueError, match="a second has no windows"):
        parse_condition("secondly after 10")


@pytest.mark.parametrize(
    "bad", ["daily between 25:00 and 26:00", "daily after 10:61", "weekly on Someday",
            "monthly on 32nd", "daily between 10:00", "time of year after 1st"],
)
def test_bad_window_values_are_syntax_errors(bad: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_condition(bad)


# -- DST: daily is one run per local calendar day, in every tested zone --------------
DST_DAYS = [
    # zone, spring-forward day, its local length (h), autumn day, its local length (h)
    ("Europe/Berlin", "2024-03-31", 23.0, "2024-10-27", 25.0),
    ("America/New_York", "2024-03-10", 23.0, "2024-11-03", 25.0),
    ("Australia/Lord_Howe", "2024-10-06", 23.5, "2024-04-07", 24.5),
    ("Pacific/Chatham", "2024-09-29", 23.0, "2024-04-07", 25.0),
]
_DAYS = [(z, d, h) for z, sd, sh, ad, ah in DST_DAYS for d, h in ((sd, sh), (ad, ah))]


@pytest.mark.parametrize(("tz", "day", "hours"), _DAYS)
def test_daily_once_per_local_day_across_dst(tz: str, day: str, hours: float) -> None:
    s = Statuses()
    midnight = at(f"{day} 00:00", tz)
    ctx = s.ctx(midnight, tz)
    assert conds.daily.evaluate(ctx)
    end = conds.daily.next_change(ctx)
    assert end is not None and (end - midnight) / 3600 == hours
    s.finish("me", midnight + 5, midnight + 6, Outcome.SUCCESS)
    # Every hour of that day, real time, it stays false; it is true again at midnight.
    t = midnight + 60
    while t < end:
        assert not conds.daily.evaluate(s.ctx(t, tz))
        t += 900
    assert conds.daily.next_change(s.ctx(midnight + 60, tz)) == end
    assert conds.daily.evaluate(s.ctx(end, tz))


@pytest.mark.parametrize(
    ("tz", "day", "gap_time", "first_valid"),
    [
        ("Europe/Berlin", "2024-03-31", "02:30", "03:00"),
        ("America/New_York", "2024-03-10", "02:30", "03:00"),
        ("Australia/Lord_Howe", "2024-10-06", "02:15", "02:30"),
        ("Pacific/Chatham", "2024-09-29", "03:00", "03:45"),
    ],
)
def test_window_starting_in_a_gap_opens_at_the_first_valid_time(
    tz: str, day: str, gap_time: str, first_valid: str
) -> None:
    c = conds.daily.after(gap_time)
    ctx = Statuses().ctx(at(f"{day} 00:30", tz), tz)
    assert c.next_change(ctx) == at(f"{day} {first_valid}", tz)


def test_window_in_an_autumn_overlap_opens_once_at_the_first_occurrence() -> None:
    tz = "Europe/Berlin"
    c = conds.daily.at("02:30")
    s = Statuses()
    first = at("2024-10-27 02:30", tz, fold=0)
    assert c.next_change(s.ctx(at("2024-10-27 00:00", tz), tz)) == first
    s.finish("me", first, first + 1, Outcome.SUCCESS)
    second = at("2024-10-27 02:30", tz, fold=1)
    assert second - first == 3600
    assert not c.evaluate(s.ctx(second, tz))
    assert c.next_change(s.ctx(second, tz)) == at("2024-10-28 02:30", tz)
