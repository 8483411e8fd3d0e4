"""Quiet hours: when a channel delivery that falls inside them may go out. Pure: no I/O, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from todo.timeutil import zone


def inside(moment: time, start: time, end: time) -> bool:
    """Whether a wall time is in the window [start, end), which may span midnight (22:00-07:00)."""
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def after_quiet_hours(at: datetime, quiet: tuple[time, time] | None, tz_name: str) -> datetime:
    """`at`, or, when it falls inside the user's quiet hours (wall times in `tz_name`), the end of them.
    The end is a wall time: on the day the clocks change it is still "07:00" there."""
    if quiet is None:
        return at
    start, end = quiet
    tz = zone(tz_name)
    local = at.astimezone(tz)
    if not inside(local.time(), start, end):
        return at
    day = local.date()
    if start > end and local.time() >= start:  # in the evening part of a window that spans midnight
        day += timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
