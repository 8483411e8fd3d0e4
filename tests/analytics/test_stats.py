"""Per-day counts in the user's time zone and completion streaks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from todo.analytics.stats import TaskFacts, compute, streaks

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def facts(created: datetime, due: datetime | None = None, done: datetime | None = None,
          deleted: datetime | None = None) -> TaskFacts:  # fmt: skip
    return TaskFacts(created_at=created, due_date=due, completed_at=done, deleted_at=deleted)


def test_days_are_counted_in_the_users_timezone() -> None:
    late_evening_utc = datetime(2026, 6, 14, 23, 30, tzinfo=UTC)  # already 15 June in Berlin
    stats = compute([facts(late_evening_utc)], now=NOW, tz=ZoneInfo("Europe/Berlin"), days=2)
    assert [(d.date.isoformat(), d.created) for d in stats.days] == [("2026-06-14", 0), ("2026-06-15", 1)]
    utc = compute([facts(late_evening_utc)], now=NOW, tz=ZoneInfo("UTC"), days=2)
    assert [d.created for d in utc.days] == [1, 0]


def test_overdue_counts_tasks_whose_due_time_passed_while_open() -> None:
    yesterday = NOW - timedelta(days=1)
    rows = [
        facts(NOW - timedelta(days=3), due=yesterday),  # overdue, still open
        facts(NOW - timedelta(days=3), due=yesterday, done=yesterday + timedelta(hours=2)),  # done late
        facts(NOW - timedelta(days=3), due=yesterday, done=yesterday - timedelta(hours=2)),  # done in time
        facts(
            NOW - timedelta(days=3), due=yesterday, deleted=yesterday - timedelta(hours=1)
        ),  # deleted before
        facts(NOW - timedelta(days=3), due=NOW + timedelta(hours=3)),  # due soon
    ]
    stats = compute(rows, now=NOW, tz=ZoneInfo("UTC"), days=2)
    assert stats.days[0].overdue == 2
    assert stats.totals == {"created": 5, "completed": 2, "open": 2, "overdue": 1, "due_soon": 1}


def test_streaks() -> None:
    today = date(2026, 6, 15)
    days = {today - timedelta(days=n) for n in (0, 1, 2, 5, 6, 7, 8)}
    assert streaks(days, today) == (3, 4)
    assert streaks(days - {today}, today) == (2, 4)  # today not done yet: the streak is still alive
    assert streaks(set(), today) == (0, 0)
    assert streaks({today - timedelta(days=2)}, today) == (0, 1)
