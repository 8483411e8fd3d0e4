"""What a page shows, from the API's answers: local times, relative hints, the dashboard's groups. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

PRIORITY_NAMES = {1: "high", 2: "medium", 3: "low"}
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60))


def parse_instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def local_time(moment: datetime, timezone: str) -> str:
    """`Fri 27 Nov, 14:30` in the user's timezone."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%a %-d %b, %H:%M")


def relative(moment: datetime, now: datetime, *, overdue_words: bool = False) -> str:
    """`in 3 hours`, `5 minutes ago`; with `overdue_words` a past moment reads `2 days overdue`."""
    seconds = (moment - now).total_seconds()
    amount = _amount(abs(seconds))
    if amount is None:
        return "now"
    if seconds > 0:
        return f"in {amount}"
    return f"{amount} overdue" if overdue_words else f"{amount} ago"


def _amount(seconds: float) -> str | None:
    for unit, size in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return None


@dataclass(frozen=True)
class TaskView:
    id: str
    title: str
    priority: str
    due_local: str | None
    due_hint: str | None
    due_state: str
    completed: bool
    tags: list[str]
    recurring: bool
    project_id: str = ""
    checklist: str = ""  # "2/5": items checked of all, when it has any


def task_view(task: Mapping[str, Any], now: datetime, timezone: str) -> TaskView:
    due = parse_instant(task.get("due_date"))
    return TaskView(
        id=task["id"],
        title=task["title"],
        priority=PRIORITY_NAMES.get(task["priority"], "medium"),
        due_local=None if due is None else local_time(due, timezone),
        due_hint=None if due is None or task["completed"] else relative(due, now, overdue_words=True),
        due_state=task["due_state"],
        completed=task["completed"],
        tags=list(task.get("tags") or []),
        recurring=task.get("recurring_task_id") is not None,
        project_id=str(task.get("project_id") or ""),
        checklist=_progress(task.get("checklist") or []),
    )


def _progress(items: list[Mapping[str, Any]]) -> str:
    return f"{sum(1 for item in items if item.get('done'))}/{len(items)}" if items else ""


@dataclass
class Group:
    key: str
    title: str
    hint: str = ""
    tasks: list[TaskView] = field(default_factory=list)


def dashboard_groups(
    open_tasks: Iterable[Mapping[str, Any]],
    completed: Iterable[Mapping[str, Any]],
    now: datetime,
    timezone: str,
) -> list[Group]:
    """Open tasks in Overdue, Due soon (the next 24 hours), Upcoming and No date, each in the API's order
    (by due time); then Today: what was completed since local midnight (what is due today is already in
    Overdue or Due soon)."""
    groups = [
        Group("overdue", "Overdue"),
        Group("due_soon", "Due soon"),
        Group("upcoming", "Upcoming"),
        Group("none", "No date"),
        Group("done_today", "Today", "done since midnight"),
    ]
    by_key = {g.key: g for g in groups}
    for task in open_tasks:
        due = parse_instant(task.get("due_date"))
        by_key[_group_of(due, now)].tasks.append(task_view(task, now, timezone))
    midnight = start_of_day(now, timezone)
    for task in completed:
        done_at = parse_instant(task.get("completed_at"))
        if done_at is not None and done_at >= midnight:
            by_key["done_today"].tasks.append(task_view(task, now, timezone))
    return groups


def _group_of(due: datetime | None, now: datetime) -> str:
    if due is None:
        return "none"
    if due <= now:
        return "overdue"
    return "due_soon" if due <= now + timedelta(hours=24) else "upcoming"


def start_of_day(now: datetime, timezone: str) -> datetime:
    """Local midnight of `now`'s day in `timezone`."""
    return now.astimezone(ZoneInfo(timezone)).replace(hour=0, minute=0, second=0, microsecond=0)


def input_value(moment: datetime | None, timezone: str) -> str:
    """A moment as a `datetime-local` field shows it: wall time in the user's timezone, to the minute."""
    return "" if moment is None else moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def reminder_label(kind: str, minutes_before: int | None) -> str:
    """A planned reminder as the task page says it: "1 hour before", "at the due time", "snoozed"."""
    if kind == "snooze":
        return "snoozed"
    if not minutes_before:
        return "at the due time"
    unit, size = next(
        (u, n) for u, n in (("day", 1440), ("hour", 60), ("minute", 1)) if minutes_before % n == 0
    )
    count = minutes_before // size
    return f"{count} {unit}{'s' if count != 1 else ''} before"


PRIORITY_WORDS = {1: "high priority", 2: "", 3: "low priority"}


def quick_add(said: Mapping[str, Any], timezone: str) -> str:
    """Quick add's preview in a sentence: `Adds "Call mum", due Tue 16 Jun, 18:00, #family.`"""
    title = f"\u201c{said['title']}\u201d"
    if said["kind"] == "series":
        repeat = next((u["words"] for u in said["understood"] if u["meaning"].startswith("repeats")), "")
        first = local_time(datetime.fromisoformat(said["start_date"]), timezone)
        parts = [f"Adds the series {title}, repeating {repeat}, first {first}"]
    else:
        parts = [f"Adds {title}"]
        if said["due_date"]:
            parts.append(f"due {local_time(datetime.fromisoformat(said['due_date']), timezone)}")
    parts += [f"#{t}" for t in said["tags"]]
    if words := PRIORITY_WORDS.get(said["priority"]):
        parts.append(words)
    sentence = ", ".join(parts) + "."
    if said["not_understood"]:
        kept = ", ".join(f"\u201c{w}\u201d" for w in said["not_understood"])
        sentence += f" Not understood as a date or a repeat, so kept in the title: {kept}."
    return sentence


SNOOZE_MINUTES = ((10, "10 minutes"), (60, "1 hour"), (180, "3 hours"))
LATER_TODAY, MORNING = time(18, 0), time(9, 0)


def snooze_choices(now: datetime, timezone: str) -> list[tuple[str, str]]:
    """The task page's "remind me again" choices, (value, label): a span from now (`60`), or a named
    time in the user's zone (`at:<instant>`): later today (18:00, until 17:00), tomorrow morning, next
    week (Monday morning)."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    named: list[tuple[str, datetime]] = []
    if local.time() < time(17, 0):
        named.append(("Later today", datetime.combine(local.date(), LATER_TODAY, tzinfo=tz)))
    named.append(("Tomorrow morning", datetime.combine(local.date() + timedelta(days=1), MORNING, tzinfo=tz)))
    monday = local.date() + timedelta(days=7 - local.weekday())
    named.append(("Next week", datetime.combine(monday, MORNING, tzinfo=tz)))
    return [(str(m), label) for m, label in SNOOZE_MINUTES] + [
        (f"at:{at.isoformat()}", f"{label}, {local_time(at, timezone)}") for label, at in named
    ]
