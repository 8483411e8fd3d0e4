"""The recurrence engine: DST, month ends, leap days, intervals, end dates, counts, RFC 5545 rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from todo.recurrence.engine import (
    RecurrenceError,
    RecurrenceType,
    Schedule,
    latest_at_or_before,
    next_after,
    occurrences,
    parse_rrule,
    validate,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def daily(start: datetime, tz: str, **kw: object) -> Schedule:
    return Schedule(RecurrenceType.daily, 1, start, tz, **kw)  # type: ignore[arg-type]


def local_times(instants: list[datetime], tz: ZoneInfo) -> list[str]:
    return [i.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") for i in instants]


@pytest.mark.parametrize(
    ("tz", "start_day", "expected_offsets"),
    [
        # Berlin springs forward on 29 March 2026, falls back on 25 October 2026.
        (BERLIN, datetime(2026, 3, 28, 9), [8, 7, 7]),
        (BERLIN, datetime(2026, 10, 24, 9), [7, 8, 8]),
        # New York springs forward on 8 March 2026, falls back on 1 November 2026.
        (NEW_YORK, datetime(2026, 3, 7, 9), [14, 13, 13]),
        (NEW_YORK, datetime(2026, 10, 31, 9), [13, 14, 14]),
    ],
)
def test_daily_nine_oclock_stays_nine_oclock_across_dst(
    tz: ZoneInfo, start_day: datetime, expected_offsets: list[int]
) -> None:
    schedule = daily(start_day.replace(tzinfo=tz), str(tz))
    got = occurrences(schedule, limit=3)
    assert [o.astimezone(tz).hour for o in got] == [9, 9, 9]
    assert [o.hour for o in got] == expected_offsets  # the UTC hour moves, the wall clock does not
    assert all(o.tzinfo is UTC for o in got)


def test_time_in_the_spring_forward_gap_moves_forward() -> None:
    schedule = daily(datetime(2026, 3, 28, 2, 30, tzinfo=BERLIN), "Europe/Berlin")
    got = occurrences(schedule, limit=3)
    assert local_times(got, BERLIN) == [
        "2026-03-28 02:30 CET",
        "2026-03-29 03:30 CEST",  # 02:30 does not exist that day
        "2026-03-30 02:30 CEST",
    ]


def test_ambiguous_fall_back_time_takes_the_first_instant() -> None:
    schedule = daily(datetime(2026, 10, 24, 2, 30, tzinfo=BERLIN), "Europe/Berlin")
    got = occurrences(schedule, limit=2)
    assert got[1] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, not 02:30 CET


def test_monthly_on_the_31st_falls_on_the_last_day_of_shorter_months() -> None:
    schedule = Schedule(RecurrenceType.monthly, 1, datetime(2026, 1, 31, 9, tzinfo=UTC), "UTC")
    got = [o.date().isoformat() for o in occurrences(schedule, limit=5)]
    assert got == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]


def test_monthly_on_the_30th_in_a_leap_february() -> None:
    schedule = Schedule(RecurrenceType.monthly, 1, datetime(2028, 1, 30, 9, tzinfo=UTC), "UTC")
    got = [o.date().isoformat() for o in occurrences(schedule, limit=3)]
    assert got == ["2028-01-30", "2028-02-29", "2028-03-30"]


def test_yearly_on_29_february_uses_the_28th_in_common_years() -> None:
    schedule = Schedule(RecurrenceType.yearly, 1, datetime(2024, 2, 29, 9, tzinfo=UTC), "UTC")
    got = [o.date().isoformat() for o in occurrences(schedule, limit=5)]
    assert got == ["2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"]


@pytest.mark.parametrize(
    ("kind", "interval", "expected"),
    [
        (RecurrenceType.daily, 3, ["2026-01-01", "2026-01-04", "2026-01-07"]),
        (RecurrenceType.weekly, 2, ["2026-01-01", "2026-01-15", "2026-01-29"]),
        (RecurrenceType.monthly, 3, ["2026-01-01", "2026-04-01", "2026-07-01"]),
        (RecurrenceType.yearly, 2, ["2026-01-01", "2028-01-01", "2030-01-01"]),
    ],
)
def test_intervals(kind: RecurrenceType, interval: int, expected: list[str]) -> None:
    schedule = Schedule(kind, interval, datetime(2026, 1, 1, 9, tzinfo=UTC), "UTC")
    assert [o.date().isoformat() for o in occurrences(schedule, limit=3)] == expected


def test_end_date_is_inclusive_and_stops_the_series() -> None:
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    schedule = daily(start, "UTC", end=datetime(2026, 1, 3, 9, tzinfo=UTC))
    assert len(occurrences(schedule, limit=10)) == 3
    assert next_after(schedule, datetime(2026, 1, 3, 9, tzinfo=UTC)) is None


def test_count_limits_the_series() -> None:
    schedule = daily(datetime(2026, 1, 1, 9, tzinfo=UTC), "UTC", count=4)
    got = occurrences(schedule, limit=10)
    assert len(got) == 4
    assert next_after(schedule, got[-1]) is None
    assert occurrences(schedule, after=got[1], limit=10) == got[2:]


def test_rrule_last_friday_of_the_month() -> None:
    schedule = Schedule(
        RecurrenceType.monthly, 1, datetime(2026, 1, 1, 17, tzinfo=BERLIN), "Europe/Berlin",
        rrule="FREQ=MONTHLY;BYDAY=-1FR",
    )  # fmt: skip
    got = occurrences(schedule, limit=3)
    assert local_times(got, BERLIN) == [
        "2026-01-30 17:00 CET",
        "2026-02-27 17:00 CET",
        "2026-03-27 17:00 CET",
    ]


def test_rrule_weekdays() -> None:
    schedule = Schedule(
        RecurrenceType.weekly,
        1,
        datetime(2026, 1, 5, 8, tzinfo=UTC),
        "UTC",
        rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
    )
    got = [o.strftime("%a %d") for o in occurrences(schedule, limit=4)]
    assert got == ["Mon 05", "Wed 07", "Fri 09", "Mon 12"]


def test_rrule_set_position_second_tuesday() -> None:
    schedule = Schedule(
        RecurrenceType.monthly, 1, datetime(2026, 1, 1, 8, tzinfo=UTC), "UTC",
        rrule="RRULE:FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2",
    )  # fmt: skip
    got = [o.date().isoformat() for o in occurrences(schedule, limit=3)]
    assert got == ["2026-01-13", "2026-02-10", "2026-03-10"]


def test_next_after_and_latest_missed() -> None:
    schedule = daily(datetime(2026, 1, 1, 9, tzinfo=UTC), "UTC")
    noon = datetime(2026, 1, 10, 12, tzinfo=UTC)
    assert next_after(schedule, noon) == datetime(2026, 1, 11, 9, tzinfo=UTC)
    assert latest_at_or_before(schedule, noon) == datetime(2026, 1, 10, 9, tzinfo=UTC)
    assert latest_at_or_before(schedule, datetime(2025, 12, 31, tzinfo=UTC)) is None


def test_latest_missed_across_dst_in_local_time() -> None:
    schedule = daily(datetime(2026, 3, 27, 9, tzinfo=BERLIN), "Europe/Berlin")
    moment = datetime(2026, 3, 30, 7, 30, tzinfo=UTC)  # 09:30 CEST
    assert latest_at_or_before(schedule, moment) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("FREQ=HOURLY", "HOURLY is not supported"),
        ("BYDAY=MO", "FREQ is required"),
        ("FREQ=WEEKLY;COUNT=3", "use the count field"),
        ("FREQ=WEEKLY;UNTIL=20260101", "use the end_date field"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RFC 5545 rule"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be between"),
        ("FREQ=WEEKLY;BYDAY", "is not NAME=VALUE"),
    ],
)
def test_invalid_rules_name_the_problem(rule: str, fragment: str) -> None:
    with pytest.raises(RecurrenceError) as info:
        parse_rrule(rule)
    assert info.value.field == "rrule"
    assert fragment in info.value.reason


def test_rule_summary_gives_frequency_and_interval() -> None:
    text, summary = parse_rrule("rrule:freq=monthly;interval=2;byday=-1fr")
    assert text == "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR"
    assert (summary.recurrence_type, summary.interval) == (RecurrenceType.monthly, 2)


def test_validate_rejects_end_before_start_and_empty_schedules() -> None:
    start = datetime(2026, 1, 10, 9, tzinfo=UTC)
    with pytest.raises(RecurrenceError) as info:
        validate(daily(start, "UTC", end=start - timedelta(days=1)))
    assert info.value.field == "end_date"
    never = Schedule(
        RecurrenceType.yearly, 1, start, "UTC", end=start + timedelta(days=30), rrule="FREQ=YEARLY;BYMONTH=6"
    )
    with pytest.raises(RecurrenceError, match="no occurrence"):
        validate(never)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Schedule(RecurrenceType.daily, 1, datetime(2026, 1, 1, 9), "UTC")


@pytest.mark.parametrize(
    "tz_name",
    ["Europe/Berlin", "America/New_York", "Australia/Sydney", "America/Santiago", "Pacific/Chatham",
     "Europe/London", "America/Havana", "Asia/Kolkata"],
)  # fmt: skip
def test_a_year_of_daily_occurrences_keeps_the_wall_clock(tz_name: str) -> None:
    """Across every DST change of 2026 in zones north and south, with odd offsets: always 07:45 local,
    except where 07:45 does not exist that day (none of these zones change at that hour)."""
    tz = ZoneInfo(tz_name)
    schedule = daily(datetime(2026, 1, 1, 7, 45, tzinfo=tz), tz_name)
    got = occurrences(schedule, limit=365)
    assert len({o.date() for o in got}) == 365
    assert {(o.astimezone(tz).hour, o.astimezone(tz).minute) for o in got} == {(7, 45)}
    assert [o.astimezone(tz).date() for o in got] == [
        (datetime(2026, 1, 1) + timedelta(days=n)).date() for n in range(365)
    ]
