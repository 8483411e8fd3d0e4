"""Per-day counts and the completion streak, computed from projection rows. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from todo.tasks.due_state import DUE_SOON_WINDOW


@dataclass(frozen=True)
class TaskFacts:
    created_at: datetime
    due_date: datetime | None
    completed_at: datetime | None
    deleted_at: datetime | None


@dataclass(frozen=True)
class DayStats:
    date: date
    created: int
    completed: int
    overdue: int


@dataclass(frozen=True)
class Stats:
    totals: dict[str, int]
    current_streak: int
    longest_streak: int
    days: list[DayStats]


def went_overdue(t: TaskFacts, now: datetime) -> bool:
    """Its due time came while it was open and not deleted."""
    if t.due_date is None or t.due_date > now:
        return False
    done_in_time = t.completed_at is not None and t.completed_at <= t.due_date
    deleted_before = t.deleted_at is not None and t.deleted_at <= t.due_date
    return not done_in_time and not deleted_before


def compute(facts: Iterable[TaskFacts], *, now: datetime, tz: ZoneInfo, days: int) -> Stats:
    rows = list(facts)

    def local(moment: datetime) -> date:
        return moment.astimezone(tz).date()

    created = Counter(local(t.created_at) for t in rows)
    completed = Counter(local(t.completed_at) for t in rows if t.completed_at is not None)
    overdue = Counter(local(t.due_date) for t in rows if t.due_date is not None and went_overdue(t, now))
    today = local(now)
    window = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    alive = [t for t in rows if t.deleted_at is None]
    open_ = [t for t in alive if t.completed_at is None]
    totals = {
        "created": len(rows),
        "completed": sum(1 for t in alive if t.completed_at is not None),
        "open": len(open_),
        "overdue": sum(1 for t in open_ if t.due_date is not None and t.due_date <= now),
        "due_soon": sum(
            1 for t in open_ if t.due_date is not None and now < t.due_date <= now + DUE_SOON_WINDOW
        ),
    }
    current, longest = streaks(set(completed), today)
    return Stats(
        totals=totals,
        current_streak=current,
        longest_streak=longest,
        days=[DayStats(d, created[d], completed[d], overdue[d]) for d in window],
    )


def streaks(days_with_completion: set[date], today: date) -> tuple[int, int]:
    """Current streak: consecutive days ending today (or yesterday, if today has none yet)."""
    longest = run = 0
    previous: date | None = None
    for day in sorted(days_with_completion):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    end = today if today in days_with_completion else today - timedelta(days=1)
    current = 0
    while end - timedelta(days=current) in days_with_completion:
        current += 1
    return current, longest
