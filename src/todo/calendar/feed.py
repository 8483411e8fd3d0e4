"""The iCalendar document (RFC 5545) of a user's open tasks and series. Pure: no I/O.

Each open task is a VTODO (for apps that keep to-dos: Apple Reminders, Thunderbird), and one with a due
time also a VEVENT at that time (calendars such as Google's show only events); an occurrence of a series
is left to its series, a VEVENT with the series' RRULE in the series' time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from icalendar import Calendar, Component, Event, Todo, vRecur

from todo.recurrence.schemas import RecurringTaskRead
from todo.tasks.schemas import TaskRead
from todo.timeutil import zone

PRODUCT = "-//todo//calendar feed//EN"
ICAL_PRIORITY = {1: 1, 2: 5, 3: 9}  # RFC 5545: 1 highest, 5 medium, 9 lowest
C = TypeVar("C", bound=Component)


def document(*, tasks: Sequence[TaskRead], series: Sequence[RecurringTaskRead], now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "todo")
    for task in tasks:
        calendar.add_component(todo_component(task, now))
        if task.due_date is not None and task.recurring_task_id is None:
            calendar.add_component(_due_event(task, now))
    for one in series:
        calendar.add_component(_series_event(one, now))
    calendar.add_missing_timezones()
    written: bytes = calendar.to_ical()
    return written


def _component(kind: type[C], *, uid: str, title: str, description: str | None, now: datetime) -> C:
    """A VTODO or VEVENT with what every one of ours has."""
    component = kind()
    component.add("uid", uid)
    component.add("dtstamp", now)
    component.add("summary", title)
    if description:
        component.add("description", description)
    return component


def todo_component(task: TaskRead, now: datetime, *, uid: str | None = None) -> Todo:
    """The task as a VTODO (with `uid`, the one a CalDAV client gave it; ours by default), done or not."""
    todo = _component(
        Todo, uid=uid or f"{task.id}@todo", title=task.title, description=task.description, now=now
    )
    if task.due_date is not None:
        todo.add("due", task.due_date)
    todo.add("priority", ICAL_PRIORITY.get(task.priority, 0))
    if task.tags:
        todo.add("categories", task.tags)
    todo.add("status", "COMPLETED" if task.completed else "NEEDS-ACTION")
    if task.completed_at is not None:
        todo.add("completed", task.completed_at)
    todo.add("last-modified", task.updated_at)
    return todo


def _due_event(task: TaskRead, now: datetime) -> Event:
    assert task.due_date is not None
    event = _component(Event, uid=f"{task.id}-due@todo", title=task.title, description=None, now=now)
    event.add("dtstart", task.due_date)
    event.add("dtend", task.due_date)  # a moment: the task is due then
    return event


def _series_event(series: RecurringTaskRead, now: datetime) -> Event:
    """The series in its own zone, so that "09:00 every weekday" stays 09:00 across a DST change."""
    tz = zone(series.timezone)
    if series.rrule:
        rule = vRecur.from_ical(series.rrule)
    else:
        rule = vRecur(freq=series.recurrence_type.value.upper(), interval=series.recurrence_interval)
    if series.end_date is not None:
        rule["until"] = series.end_date
    if series.count is not None:
        rule["count"] = series.count
    event = _component(
        Event, uid=f"{series.id}@todo", title=series.title, description=series.description, now=now
    )
    event.add("dtstart", series.start_date.astimezone(tz))
    event.add("dtend", series.start_date.astimezone(tz))
    event.add("rrule", rule)
    if series.tags:
        event.add("categories", series.tags)
    return event
