"""Which reminders a task should have. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class ReminderKind(StrEnum):
    due_soon = "due_soon"  # some minutes before the due time
    due = "due"  # at the due time
    snooze = "snooze"  # "remind me again" at a time the user chose


@dataclass(frozen=True)
class PlannedReminder:
    kind: ReminderKind
    minutes_before: int
    fire_at: datetime


def plan(
    due: datetime | None, minutes_before: Iterable[int], *, changed_at: datetime
) -> list[PlannedReminder]:
    """One reminder per lead whose time is still ahead when the task was last changed: a reminder
    that was already past when the user set the due time would only be noise."""
    if due is None:
        return []
    planned = (
        PlannedReminder(
            ReminderKind.due if minutes == 0 else ReminderKind.due_soon,
            minutes,
            due - timedelta(minutes=minutes),
        )
        for minutes in sorted(set(minutes_before), reverse=True)
    )
    return [p for p in planned if p.fire_at > changed_at]
