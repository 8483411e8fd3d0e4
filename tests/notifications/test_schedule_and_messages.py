"""Pure parts of notifications: which reminders a task gets, what a message says, repeat-from-completion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from todo.notifications.messages import compose
from todo.notifications.schedule import PlannedReminder, ReminderKind, plan
from todo.recurrence.engine import RecurrenceType, Schedule, after_completion

DUE = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)


def test_one_reminder_per_lead_latest_last_and_none_without_a_due_time() -> None:
    changed = DUE - timedelta(days=3)
    assert plan(DUE, [0, 1440, 60, 60], changed_at=changed) == [
        PlannedReminder(ReminderKind.due_soon, 1440, DUE - timedelta(days=1)),
        PlannedReminder(ReminderKind.due_soon, 60, DUE - timedelta(hours=1)),
        PlannedReminder(ReminderKind.due, 0, DUE),
    ]
    assert plan(None, [1440, 0], changed_at=changed) == []


def test_leads_already_past_when_the_task_changed_are_not_planned() -> None:
    two_hours_before = DUE - timedelta(hours=2)
    assert [p.minutes_before for p in plan(DUE, [1440, 60, 0], changed_at=two_hours_before)] == [60, 0]
    assert plan(DUE, [0], changed_at=DUE) == []  # created at its due time: announced otherwise


def test_a_message_says_what_is_due_and_when_in_the_readers_zone() -> None:
    soon = compose(
        "due_soon", task_title="Pay rent", due=DUE, now=DUE - timedelta(days=1), tz_name="America/New_York"
    )
    assert (soon.title, soon.body) == (
        "Due soon: Pay rent",
        "Pay rent is due tomorrow at 08:00 (America/New_York).",
    )
    on_time = compose("due", task_title="Pay rent", due=DUE, now=DUE + timedelta(seconds=2), tz_name="UTC")
    assert on_time.body == "Pay rent is due today at 12:00 (UTC)."
    late = compose(
        "due", task_title="Pay rent", due=DUE, now=DUE + timedelta(hours=3), tz_name="UTC", late=True
    )
    assert late.body == (
        "Pay rent was due today at 12:00 (UTC)."
        " (This reminder is late: the service was not running at its time.)"
    )


def test_repeat_from_completion_keeps_wall_time_across_dst() -> None:
    daily = Schedule(RecurrenceType.daily, 1, datetime(2026, 3, 1, 9, tzinfo=UTC), "Europe/Berlin")
    completed = datetime(2026, 3, 28, 9, 30, tzinfo=UTC)  # 10:30 CET, the day before the change
    assert after_completion(daily, completed) == datetime(2026, 3, 29, 8, 30, tzinfo=UTC)  # 10:30 CEST
    ending = Schedule(RecurrenceType.weekly, 2, daily.start, "UTC", end=datetime(2026, 4, 1, tzinfo=UTC))
    assert after_completion(ending, completed) is None
