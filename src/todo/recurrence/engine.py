"""When a series' occurrences fall. Pure: no I/O, no clock; every instant in and out is timezone-aware.

Rules are evaluated on wall time in the series' own time zone (RFC 5545 through python-dateutil), then
each wall time is turned into an instant. So a daily 09:00 series stays at 09:00 local across DST; a wall
time that does not exist (the spring-forward gap) moves forward by the gap; an ambiguous one (fall back)
takes its first instant. "Monthly on the 31st" falls on the last day of shorter months, and "yearly on
29 February" on the 28th in common years, because that is what people mean by them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import islice
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from todo.timeutil import zone

MAX_INTERVAL = 1000
MAX_COUNT = 10_000


class RecurrenceType(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    yearly = "yearly"


class RepeatFrom(StrEnum):
    schedule = "schedule"
    completion = "completion"


_FREQ: dict[RecurrenceType, Literal[0, 1, 2, 3, 4, 5, 6]] = {
    RecurrenceType.daily: DAILY,
    RecurrenceType.weekly: WEEKLY,
    RecurrenceType.monthly: MONTHLY,
    RecurrenceType.yearly: YEARLY,
}
_FREQ_NAMES = {
    "DAILY": RecurrenceType.daily,
    "WEEKLY": RecurrenceType.weekly,
    "MONTHLY": RecurrenceType.monthly,
    "YEARLY": RecurrenceType.yearly,
}


def _step(kind: RecurrenceType, interval: int) -> relativedelta:
    return {
        RecurrenceType.daily: relativedelta(days=interval),
        RecurrenceType.weekly: relativedelta(weeks=interval),
        RecurrenceType.monthly: relativedelta(months=interval),
        RecurrenceType.yearly: relativedelta(years=interval),
    }[kind]


_FORBIDDEN_PARTS = {"DTSTART": "start_date", "UNTIL": "end_date", "COUNT": "count"}


class RecurrenceError(ValueError):
    """A schedule that cannot be evaluated; `field` names the input at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class RuleSummary:
    recurrence_type: RecurrenceType
    interval: int


def parse_rrule(text: str) -> tuple[str, RuleSummary]:
    """Normalise an RFC 5545 RRULE value and say which frequency and interval it has."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    parts: dict[str, str] = {}
    for item in filter(None, body.upper().split(";")):
        key, sep, value = item.partition("=")
        if not sep or not value:
            raise RecurrenceError("rrule", f"{item!r} is not NAME=VALUE")
        if key in _FORBIDDEN_PARTS:
            raise RecurrenceError(
                "rrule", f"{key} is not allowed in rrule; use the {_FORBIDDEN_PARTS[key]} field"
            )
        parts[key] = value
    freq = parts.get("FREQ")
    if freq is None:
        raise RecurrenceError("rrule", "FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY)")
    if freq not in _FREQ_NAMES:
        raise RecurrenceError("rrule", f"FREQ={freq} is not supported; use DAILY, WEEKLY, MONTHLY or YEARLY")
    try:
        interval = int(parts.get("INTERVAL", "1"))
    except ValueError as exc:
        raise RecurrenceError("rrule", "INTERVAL must be a whole number") from exc
    if not 1 <= interval <= MAX_INTERVAL:
        raise RecurrenceError("rrule", f"INTERVAL must be between 1 and {MAX_INTERVAL}")
    normalised = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        rrulestr(normalised, dtstart=datetime(2000, 1, 1))
    except (ValueError, KeyError, IndexError) as exc:
        raise RecurrenceError("rrule", f"not a valid RFC 5545 rule: {exc}") from exc
    return normalised, RuleSummary(_FREQ_NAMES[freq], interval)


@dataclass(frozen=True)
class Schedule:
    recurrence_type: RecurrenceType
    interval: int
    start: datetime
    timezone: str
    end: datetime | None = None
    count: int | None = None
    rrule: str | None = None

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"Schedule.{name} must be timezone-aware")


def validate(schedule: Schedule) -> None:
    """Raise RecurrenceError naming the field when the schedule is unusable."""
    try:
        zone(schedule.timezone)
    except ValueError as exc:
        raise RecurrenceError("timezone", str(exc)) from exc
    if not 1 <= schedule.interval <= MAX_INTERVAL:
        raise RecurrenceError("recurrence_interval", f"must be between 1 and {MAX_INTERVAL}")
    if schedule.count is not None and not 1 <= schedule.count <= MAX_COUNT:
        raise RecurrenceError("count", f"must be between 1 and {MAX_COUNT}")
    if schedule.end is not None and schedule.end < schedule.start:
        raise RecurrenceError("end_date", "must not be before start_date")
    if schedule.rrule is not None:
        parse_rrule(schedule.rrule)
    if first(schedule) is None:
        raise RecurrenceError("rrule" if schedule.rrule else "end_date", "the schedule has no occurrence")


def first(schedule: Schedule) -> datetime | None:
    return next(_instants(schedule), None)


def occurrences(schedule: Schedule, *, after: datetime | None = None, limit: int = 5) -> list[datetime]:
    """The next `limit` occurrences strictly after `after` (from the start when None), in UTC."""
    return list(islice(_instants(schedule, after=after), limit))


def next_after(schedule: Schedule, moment: datetime) -> datetime | None:
    return next(_instants(schedule, after=moment), None)


def latest_at_or_before(schedule: Schedule, moment: datetime) -> datetime | None:
    """The most recent occurrence not later than `moment`: what a clock back from downtime creates."""
    if schedule.end is not None:
        moment = min(moment, schedule.end)
    tz = zone(schedule.timezone)
    rule = _rule(schedule)
    cursor = _wall(moment + timedelta(days=1), tz)
    while (wall := rule.before(cursor, inc=True)) is not None:
        instant = _instant(wall, tz)
        if instant <= moment:
            return instant
        cursor = wall - timedelta(microseconds=1)
    return None


def after_completion(schedule: Schedule, completed_at: datetime) -> datetime | None:
    """For a repeat-from-completion series: one interval after `completed_at` on wall time (so DST does
    not shift it), or None past the end."""
    tz = zone(schedule.timezone)
    instant = _instant(_wall(completed_at, tz) + _step(schedule.recurrence_type, schedule.interval), tz)
    if schedule.end is not None and instant > schedule.end:
        return None
    return instant


def _instants(schedule: Schedule, *, after: datetime | None = None) -> Iterator[datetime]:
    tz = zone(schedule.timezone)
    rule = _rule(schedule)
    walls = rule if after is None else rule.xafter(_wall(after - timedelta(days=1), tz), inc=True)
    for wall in walls:
        instant = _instant(wall, tz)
        if schedule.end is not None and instant > schedule.end:
            return
        if after is None or instant > after:
            yield instant


@lru_cache(maxsize=1024)
def _rule(schedule: Schedule) -> rrule:
    """The RFC 5545 rule on wall time. `end` is applied to instants by the callers, not as UNTIL: RFC 5545
    forbids COUNT together with UNTIL, and the end is an instant, not a wall time."""
    tz = zone(schedule.timezone)
    dtstart = _wall(schedule.start, tz)
    if schedule.rrule is not None:
        text, _ = parse_rrule(schedule.rrule)
        parsed = rrulestr(text, dtstart=dtstart)
        assert isinstance(parsed, rrule)
        return parsed.replace(count=schedule.count)
    clamp = _clamped_day(schedule.recurrence_type, dtstart)
    return rrule(
        _FREQ[schedule.recurrence_type],
        dtstart=dtstart,
        interval=schedule.interval,
        count=schedule.count,
        bymonth=clamp.month,
        bymonthday=clamp.month_days,
        bysetpos=clamp.setpos,
    )


@dataclass(frozen=True)
class _Clamp:
    month: int | None = None
    month_days: tuple[int, ...] | None = None
    setpos: int | None = None


def _clamped_day(kind: RecurrenceType, dtstart: datetime) -> _Clamp:
    """Month days past the 28th become "that day, or the month's last day if it is shorter"."""
    if kind is RecurrenceType.monthly and dtstart.day > 28:
        return _Clamp(month_days=tuple(range(28, dtstart.day + 1)), setpos=-1)
    if kind is RecurrenceType.yearly and (dtstart.month, dtstart.day) == (2, 29):
        return _Clamp(month=2, month_days=(28, 29), setpos=-1)
    return _Clamp()


def _wall(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def _instant(wall: datetime, tz: ZoneInfo) -> datetime:
    # fold=0 in a gap uses the offset in force before it, which lands the instant after the gap.
    return wall.replace(tzinfo=tz).astimezone(UTC)
