"""A task as the one VTODO of a calendar object resource, and what a client's VTODO says. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from icalendar import Calendar

from todo.calendar.feed import PRODUCT, todo_component
from todo.quickadd.parser import DEFAULT_TIME
from todo.tasks.schemas import TaskRead
from todo.timeutil import zone

# RFC 5545's 1 (highest) .. 9 (lowest), 0 undefined, in our three
_PRIORITY = {**dict.fromkeys(range(1, 5), 1), 5: 2, **dict.fromkeys(range(6, 10), 3)}


def resource(task: TaskRead, now: datetime, *, uid: str | None) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add_component(todo_component(task, now, uid=uid))
    written: bytes = calendar.to_ical()
    return written


@dataclass(frozen=True)
class SentTodo:
    uid: str
    title: str
    description: str | None
    due: datetime | None
    priority: int
    completed: bool


def read(body: bytes, *, tz_name: str) -> SentTodo:
    """The one VTODO of `body`; ValueError saying what is wrong. A DUE that is a date is due at 09:00 in
    the user's zone, one without a zone is read in it too."""
    try:
        calendar = Calendar.from_ical(body)
    except ValueError as exc:
        raise ValueError(f"not an iCalendar object: {exc}") from exc
    todos = [c for c in calendar.walk() if c.name == "VTODO"]
    if len(todos) != 1:
        raise ValueError("a resource holds exactly one VTODO here")
    todo = todos[0]
    uid = str(todo.get("uid") or "").strip()
    if not uid:
        raise ValueError("the VTODO has no UID")
    due = todo.decoded("due") if "due" in todo else None
    status = str(todo.get("status") or "").upper()
    return SentTodo(
        uid=uid,
        title=str(todo.get("summary") or "").strip()[:200] or "Untitled",
        description=str(todo["description"]) if "description" in todo else None,
        due=_instant(due, tz_name),
        priority=_PRIORITY.get(int(todo.get("priority") or 0), 2),
        completed=status == "COMPLETED" or "completed" in todo,
    )


def _instant(value: object, tz_name: str) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone(tz_name))
    if isinstance(value, date):
        return datetime.combine(value, DEFAULT_TIME, tzinfo=zone(tz_name))
    return None
