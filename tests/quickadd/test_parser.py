"""Reading a line of plain words: what is understood, in the user's zone, and what is left in the title."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from todo.quickadd.parser import read

MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")


def test_the_last_day_of_every_month_with_a_tag_and_a_priority() -> None:
    said = read("Pay rent every last day of the month at 9am #home !1", now=MONDAY, tz_name="Europe/Berlin")
    assert (said.title, said.tags, said.priority, said.due) == ("Pay rent", ["home"], 1, None)
    assert said.repeat is not None
    assert said.repeat.rrule == "BYMONTHDAY=-1;INTERVAL=1;FREQ=MONTHLY"
    assert said.repeat.start == datetime(2026, 12, 31, 9, 0, tzinfo=BERLIN)
    assert said.not_understood == []


def test_a_due_time_tomorrow_in_the_users_zone() -> None:
    said = read("Call mum tomorrow 18:00", now=MONDAY, tz_name="Europe/Berlin")
    assert (said.title, said.repeat) == ("Call mum", None)
    assert said.due == datetime(2026, 12, 8, 18, 0, tzinfo=BERLIN)
    assert said.due.astimezone(UTC) == datetime(2026, 12, 8, 17, 0, tzinfo=UTC)
    assert said.understood == [("tomorrow 18:00", "due 2026-12-08T18:00:00+01:00")]


def test_weekdays_until_a_month_end_with_that_day_included() -> None:
    said = read("Standup every weekday at 9:30 until March", now=MONDAY, tz_name="Europe/Berlin")
    assert said.title == "Standup"
    assert said.repeat is not None
    assert said.repeat.rrule == "BYDAY=MO,TU,WE,TH,FR;INTERVAL=1;FREQ=WEEKLY"
    assert said.repeat.start == datetime(2026, 12, 8, 9, 30, tzinfo=BERLIN)  # today's 9:30 has passed
    assert said.repeat.end == datetime(2027, 3, 1, 23, 59, 59, 999999, tzinfo=BERLIN)


def test_across_the_clocks_going_forward() -> None:
    """New York moves to daylight time on 14 March 2027: "tomorrow 9am" is 9:00 on the wall, EDT."""
    saturday = datetime(2027, 3, 13, 15, 0, tzinfo=UTC)  # 10:00 EST
    said = read("Gym tomorrow 9am", now=saturday, tz_name="America/New_York")
    assert said.due is not None
    assert said.due.astimezone(UTC) == datetime(2027, 3, 14, 13, 0, tzinfo=UTC)  # UTC-4 now, not UTC-5


def test_a_day_without_a_time_is_due_that_morning() -> None:
    said = read("Pay the insurance on 1 March", now=MONDAY, tz_name="Europe/Berlin")
    assert (said.title, said.due) == ("Pay the insurance", datetime(2027, 3, 1, 9, 0, tzinfo=BERLIN))


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("Read every page of the book", "every page of the book"),  # a word no repeat is made of
        ("Call Bob every blue moon", "every blue moon"),
    ],
)
def test_what_is_not_understood_stays_in_the_title_and_is_said(text: str, left: str) -> None:
    said = read(text, now=MONDAY, tz_name="Europe/Berlin")
    assert (said.title, said.repeat, said.due, said.not_understood) == (text, None, None, [left])


def test_plain_words_are_a_plain_title() -> None:
    said = read("  Buy   milk #Shopping #shopping ", now=MONDAY, tz_name="UTC")
    assert (said.title, said.tags, said.priority, said.due, said.repeat) == (
        "Buy milk",
        ["shopping"],
        None,
        None,
        None,
    )
