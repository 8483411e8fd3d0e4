"""Where a task stands against its due time. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

DUE_SOON_WINDOW = timedelta(hours=24)


class DueState(StrEnum):
    overdue = "overdue"  # the due time has come and the task is open
    due_soon = "due_soon"  # due within the next 24 hours
    upcoming = "upcoming"  # due later than that
    none = "none"  # open, without a due time
    done = "done"  # completed


def due_state(*, due: datetime | None, completed: bool, now: datetime) -> DueState:
    if completed:
        return DueState.done
    if due is None:
        return DueState.none
    if due <= now:
        return DueState.overdue
    if due <= now + DUE_SOON_WINDOW:
        return DueState.due_soon
    return DueState.upcoming
