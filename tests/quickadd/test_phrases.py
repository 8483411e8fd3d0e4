"""Forty-odd lines as people type them, each read in Berlin and in New York on Friday 20 March 2026,
between the two DST changes (New York's clocks went forward on the 8th, Berlin's go on the 29th): the
title, tags and priority, the due time of a task or the rule and first occurrence of a series, as wall
times with the offset each zone has on that day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from todo.quickadd.parser import read

NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)  # 11:00 in Berlin (CET), 06:00 in New York (EDT)
WEEKDAYS = "BYDAY=MO,TU,WE,TH,FR;INTERVAL=1;FREQ=WEEKLY"


@dataclass(frozen=True)
class Line:
    text: str
    title: str
    berlin: str | None = None  # the due time, or a series' first occurrence, in each zone
    new_york: str | None = None
    rrule: str | None = None
    tags: list[str] = field(default_factory=list)
    priority: int | None = None
    last_day: str | None = None  # a series' UNTIL: the last day it may fall on
    count: int | None = None
    left: list[str] = field(default_factory=list)  # said not understood


LINES = [
    # plain titles, tags and priorities
    Line("Buy milk", "Buy milk"),
    Line("Buy milk #shopping", "Buy milk", tags=["shopping"]),
    Line("Buy milk #shopping #errands !3", "Buy milk", tags=["shopping", "errands"], priority=3),
    Line("Prepare slides !2", "Prepare slides", priority=2),
    Line("Read every page of the book", "Read every page of the book", left=["every page of the book"]),
    # tasks: a due time in the user's zone
    Line("Call mum tomorrow 18:00", "Call mum", "2026-03-21T18:00:00+01:00", "2026-03-21T18:00:00-04:00"),
    Line("Dentist next friday at 3pm #health", "Dentist", "2026-03-27T15:00:00+01:00",
         "2026-03-27T15:00:00-04:00", tags=["health"]),
    Line("Team lunch on monday at 12:30", "Team lunch", "2026-03-23T12:30:00+01:00",
         "2026-03-23T12:30:00-04:00"),
    Line("Renew passport on 2026-04-02", "Renew passport", "2026-04-02T09:00:00+02:00",
         "2026-04-02T09:00:00-04:00"),
    Line("Call the bank in 2 hours", "Call the bank", "2026-03-20T13:00:00+01:00",
         "2026-03-20T08:00:00-04:00"),
    Line("Check oven in 30 minutes", "Check oven", "2026-03-20T11:30:00+01:00", "2026-03-20T06:30:00-04:00"),
    Line("Book flights tomorrow", "Book flights", "2026-03-21T09:00:00+01:00", "2026-03-21T09:00:00-04:00"),
    Line("Birthday party on april 4 at 15:00", "Birthday party", "2026-04-04T15:00:00+02:00",
         "2026-04-04T15:00:00-04:00"),
    Line("Flight on March 30 at 9am", "Flight", "2026-03-30T09:00:00+02:00", "2026-03-30T09:00:00-04:00"),
    Line("Meeting on March 28 at 9am", "Meeting", "2026-03-28T09:00:00+01:00", "2026-03-28T09:00:00-04:00"),
    Line("Call dad sunday 10am", "Call dad", "2026-03-22T10:00:00+01:00", "2026-03-22T10:00:00-04:00"),
    Line("Fix bug #work !1 tomorrow at 9am", "Fix bug", "2026-03-21T09:00:00+01:00",
         "2026-03-21T09:00:00-04:00",
         tags=["work"], priority=1),
    Line("Email Anna at 4pm", "Email Anna", "2026-03-20T16:00:00+01:00", "2026-03-20T16:00:00-04:00"),
    Line("Pick up kids today at 15:30", "Pick up kids", "2026-03-20T15:30:00+01:00",
         "2026-03-20T15:30:00-04:00"),
    Line("Dinner tonight at 19:00", "Dinner", "2026-03-20T19:00:00+01:00", "2026-03-20T19:00:00-04:00"),
    Line("Run tomorrow at 6:30", "Run", "2026-03-21T06:30:00+01:00", "2026-03-21T06:30:00-04:00"),
    Line("Submit report on April 1 at 17:00 !1", "Submit report", "2026-04-01T17:00:00+02:00",
         "2026-04-01T17:00:00-04:00", priority=1),
    # series: the rule, and the first occurrence from now on
    Line("Pay rent every last day of the month at 9am #home !1", "Pay rent", "2026-03-31T09:00:00+02:00",
         "2026-03-31T09:00:00-04:00", "BYMONTHDAY=-1;INTERVAL=1;FREQ=MONTHLY", ["home"], 1),
    Line("Water the plants every 3 days at 8am #home", "Water the plants", "2026-03-21T08:00:00+01:00",
         "2026-03-20T08:00:00-04:00", "INTERVAL=3;FREQ=DAILY", ["home"]),
    Line("Take out the bins every tuesday at 7pm", "Take out the bins", "2026-03-24T19:00:00+01:00",
         "2026-03-24T19:00:00-04:00", "BYDAY=TU;INTERVAL=1;FREQ=WEEKLY"),
    Line("Gym every monday and thursday at 6am", "Gym", "2026-03-23T06:00:00+01:00",
         "2026-03-23T06:00:00-04:00",
         "BYDAY=MO,TH;INTERVAL=1;FREQ=WEEKLY"),
    Line("Pay credit card every month on the 15th", "Pay credit card", "2026-04-15T09:00:00+02:00",
         "2026-04-15T09:00:00-04:00", "BYMONTHDAY=15;INTERVAL=1;FREQ=MONTHLY"),
    Line("Yoga every other day at 7am", "Yoga", "2026-03-21T07:00:00+01:00", "2026-03-20T07:00:00-04:00",
         "INTERVAL=2;FREQ=DAILY"),
    Line("Backup laptop every sunday at 22:00 #admin", "Backup laptop", "2026-03-22T22:00:00+01:00",
         "2026-03-22T22:00:00-04:00", "BYDAY=SU;INTERVAL=1;FREQ=WEEKLY", ["admin"]),
    Line("Review budget every 2 weeks on friday at 4pm", "Review budget", "2026-03-20T16:00:00+01:00",
         "2026-03-20T16:00:00-04:00", "BYDAY=FR;INTERVAL=2;FREQ=WEEKLY"),
    Line("Stretch every day at 8:15", "Stretch", "2026-03-21T08:15:00+01:00", "2026-03-20T08:15:00-04:00",
         "INTERVAL=1;FREQ=DAILY"),
    Line("Meditate daily at 6:30", "Meditate", "2026-03-21T06:30:00+01:00", "2026-03-20T06:30:00-04:00",
         "INTERVAL=1;FREQ=DAILY"),
    Line("Run every day at 6pm", "Run", "2026-03-20T18:00:00+01:00", "2026-03-20T18:00:00-04:00",
         "INTERVAL=1;FREQ=DAILY"),
    Line("Swim every monday at 19:45", "Swim", "2026-03-23T19:45:00+01:00", "2026-03-23T19:45:00-04:00",
         "BYDAY=MO;INTERVAL=1;FREQ=WEEKLY"),
    Line("Team retro every 2 weeks", "Team retro", "2026-03-21T09:00:00+01:00", "2026-03-20T09:00:00-04:00",
         "INTERVAL=2;FREQ=WEEKLY"),
    Line("Quarterly taxes every 3 months", "Quarterly taxes", "2026-03-21T09:00:00+01:00",
         "2026-03-20T09:00:00-04:00", "INTERVAL=3;FREQ=MONTHLY"),
    Line("Anniversary every year on june 1", "Anniversary", "2026-06-01T09:00:00+02:00",
         "2026-06-01T09:00:00-04:00", "BYMONTHDAY=1;BYMONTH=6;INTERVAL=1;FREQ=YEARLY"),
    Line("Clean windows every first monday of the month at 10am", "Clean windows",
         "2026-04-06T10:00:00+02:00",
         "2026-04-06T10:00:00-04:00", "BYDAY=1MO;INTERVAL=1;FREQ=MONTHLY"),
    Line("Weekly review every friday at 17:00 #work !2", "Weekly review", "2026-03-20T17:00:00+01:00",
         "2026-03-20T17:00:00-04:00", "BYDAY=FR;INTERVAL=1;FREQ=WEEKLY", ["work"], 2),
    Line("Vacuum every saturday at 10am until May", "Vacuum", "2026-03-21T10:00:00+01:00",
         "2026-03-21T10:00:00-04:00", "BYDAY=SA;INTERVAL=1;FREQ=WEEKLY", last_day="2026-05-01"),
    Line("Standup every weekday at 9:30 until June", "Standup", "2026-03-23T09:30:00+01:00",
         "2026-03-20T09:30:00-04:00", WEEKDAYS, last_day="2026-06-01"),
    Line("Pills every day at 8am for 10 times", "Pills", "2026-03-21T08:00:00+01:00",
         "2026-03-20T08:00:00-04:00",
         "INTERVAL=1;FREQ=DAILY", count=10),
]  # fmt: skip


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("line", LINES, ids=[line.text for line in LINES])
def test_a_line_is_read_as_a_person_means_it(line: Line, zone: str) -> None:
    said = read(line.text, now=NOW, tz_name=zone)
    expected = line.berlin if zone == "Europe/Berlin" else line.new_york
    assert (said.title, said.tags, said.priority, said.not_understood) == (
        line.title,
        line.tags,
        line.priority,
        line.left,
    )
    if line.rrule is None:
        assert said.repeat is None
        assert (said.due.isoformat() if said.due else None) == expected
        return
    assert said.due is None
    assert said.repeat is not None
    assert (said.repeat.rrule, said.repeat.start.isoformat(), said.repeat.count) == (
        line.rrule,
        expected,
        line.count,
    )
    last_day = said.repeat.end.date().isoformat() if said.repeat.end else None
    assert last_day == line.last_day


def test_the_table_is_at_least_forty_lines_of_each_kind_between_them() -> None:
    series = [line for line in LINES if line.rrule]
    tasks = [line for line in LINES if line.rrule is None and line.berlin]
    assert (len(LINES) >= 40, len(series) >= 15, len(tasks) >= 15) == (True, True, True)
