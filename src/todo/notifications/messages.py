"""What a notification says: what is due and when, in the reader's time zone. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from todo.timeutil import zone

HEADLINES = {"due_soon": "Due soon", "due": "Due now", "occurrence_due": "Due now"}


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def compose(
    kind: str, *, task_title: str, due: datetime | None, now: datetime, tz_name: str, late: bool = False
) -> Message:
    headline = HEADLINES.get(kind, "Reminder")
    if due is None:
        body = f"{task_title} needs your attention."
    else:
        verb = "was" if now - due > timedelta(minutes=1) else "is"  # a reminder at its time says "is due"
        body = f"{task_title} {verb} due {when(due, now=now, tz_name=tz_name)}."
    if late:
        body += " (This reminder is late: the service was not running at its time.)"
    return Message(f"{headline}: {task_title}", body)


def when(due: datetime, *, now: datetime, tz_name: str) -> str:
    """'today at 17:00', 'tomorrow at 09:30', 'on Mon 7 Dec at 08:00', with the zone named."""
    tz = zone(tz_name)
    local_due, local_now = due.astimezone(tz), now.astimezone(tz)
    clock = local_due.strftime("%H:%M")
    days = (local_due.date() - local_now.date()).days
    if days == 0:
        day = "today"
    elif days == 1:
        day = "tomorrow"
    elif days == -1:
        day = "yesterday"
    elif 1 < days < 7:
        day = local_due.strftime("on %A")
    else:
        day = f"on {local_due.strftime('%a')} {local_due.day} {local_due.strftime('%b %Y')}"
    return f"{day} at {clock} ({tz_name})"
