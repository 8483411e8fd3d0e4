"""What pages show: relative hints, local times and the dashboard's groups. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from todo.web import present
from todo.web.present import dashboard_groups, local_time, relative, start_of_day

NOW = datetime(2026, 3, 29, 10, 30, tzinfo=UTC)  # the morning Berlin moved its clocks forward


@pytest.mark.parametrize(
    ("offset", "hint"),
    [
        (timedelta(hours=3), "in 3 hours"),
        (timedelta(minutes=1), "in 1 minute"),
        (timedelta(seconds=20), "now"),
        (timedelta(days=-2, hours=-5), "2 days overdue"),
        (timedelta(hours=-1), "1 hour overdue"),
    ],
)
def test_relative_hints(offset: timedelta, hint: str) -> None:
    assert relative(NOW + offset, NOW, overdue_words=True) == hint


def test_past_moments_without_overdue_words() -> None:
    assert relative(NOW - timedelta(minutes=5), NOW) == "5 minutes ago"


def test_local_time_follows_the_zone_and_its_dst() -> None:
    assert local_time(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/Berlin") == "Sun 29 Mar, 01:30"
    assert local_time(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Europe/Berlin") == "Sun 29 Mar, 03:30"


def test_start_of_day_is_local_midnight() -> None:
    assert start_of_day(NOW, "Europe/Berlin") == datetime(
        2026, 3, 28, 23, 0, tzinfo=UTC
    )  # still CET at 00:00
    assert start_of_day(NOW, "America/New_York") == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)


def _task(title: str, due: datetime | None = None, completed_at: datetime | None = None) -> dict[str, Any]:
    return {
        "id": title, "title": title, "priority": 2, "due_state": "none", "tags": [],
        "due_date": due.isoformat() if due else None, "completed": completed_at is not None,
        "completed_at": completed_at.isoformat() if completed_at else None, "recurring_task_id": None,
    }  # fmt: skip


def test_dashboard_groups() -> None:
    open_tasks = [
        _task("late", NOW - timedelta(minutes=1)),
        _task("soon", NOW + timedelta(hours=23, minutes=59)),
        _task("later", NOW + timedelta(hours=24, minutes=1)),
        _task("whenever"),
    ]
    completed = [
        _task("done this morning", completed_at=datetime(2026, 3, 28, 23, 30, tzinfo=UTC)),  # 00:30 Berlin
        _task("done yesterday", completed_at=datetime(2026, 3, 28, 22, 30, tzinfo=UTC)),  # 23:30 Berlin
    ]
    groups = {
        g.key: [t.title for t in g.tasks]
        for g in dashboard_groups(open_tasks, completed, NOW, "Europe/Berlin")
    }
    assert groups == {
        "overdue": ["late"],
        "due_soon": ["soon"],
        "upcoming": ["later"],
        "none": ["whenever"],
        "done_today": ["done this morning"],
    }


def test_snooze_offers_spans_and_named_times_in_the_users_zone() -> None:
    monday_afternoon = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)  # 14:00 in Berlin
    choices = dict(present.snooze_choices(monday_afternoon, "Europe/Berlin"))
    assert choices["60"] == "1 hour"
    assert choices["at:2026-06-15T18:00:00+02:00"] == "Later today, Mon 15 Jun, 18:00"
    assert choices["at:2026-06-16T09:00:00+02:00"] == "Tomorrow morning, Tue 16 Jun, 09:00"
    assert choices["at:2026-06-22T09:00:00+02:00"] == "Next week, Mon 22 Jun, 09:00"
    evening = dict(present.snooze_choices(datetime(2026, 6, 15, 18, 0, tzinfo=UTC), "Europe/Berlin"))
    assert not any(label.startswith("Later today") for label in evening.values())  # 20:00: too late for it
