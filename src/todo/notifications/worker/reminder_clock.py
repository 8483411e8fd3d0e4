"""The reminder clock: sends each pending reminder at its time, once, whichever replica gets to it.

Sending means writing a `task-due-soon` or `task-due` event (`recurring-task-due` for the due reminder of
a series' occurrence) in the same transaction that marks the reminder sent; the inbox and the channels
follow from that event. Replicas claim reminders with
`FOR UPDATE SKIP LOCKED`, so two of them never send the same one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from todo.clock import Clock
from todo.events import outbox
from todo.events.envelope import RECURRING_TASK_DUE, TASK_DUE, TASK_DUE_SOON, EventKind
from todo.events.payloads import DuePayload, ReminderSent
from todo.notifications.models import Reminder, ReminderState
from todo.notifications.schedule import ReminderKind
from todo.platform.metrics import REMINDER_LATENESS, REMINDERS_FIRED
from todo.tasks import service as tasks
from todo.tasks.models import Task


class ReminderClock:
    name = "reminders"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        batch_size: int = 500,
        late_after: timedelta = timedelta(seconds=60),
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.batch_size = batch_size
        self.late_after = late_after

    async def tick(self) -> bool:
        """Send the reminders due now; True when a full batch was claimed (more may be waiting)."""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            claimed = (
                await session.scalars(
                    select(Reminder)
                    .where(Reminder.state == ReminderState.pending, Reminder.fire_at <= now)
                    .order_by(Reminder.fire_at)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not claimed:
                return False
            found = await session.scalars(select(Task).where(Task.id.in_({r.task_id for r in claimed})))
            by_id = {task.id: task for task in found}
            sent = [self._send(r, by_id.get(r.task_id), now) for r in claimed]
            await outbox.record(session, [event for event, _, _ in filter(None, sent)])
        for _, kind, late in filter(None, sent):
            REMINDERS_FIRED.labels(kind=kind).inc()
            REMINDER_LATENESS.observe(late)
        return len(claimed) == self.batch_size

    def _send(
        self, reminder: Reminder, task: Task | None, now: datetime
    ) -> tuple[outbox.NewEvent, str, float] | None:
        """Mark the reminder sent; returns its event to write, its kind and how many seconds late it is
        (None if cancelled)."""
        moved = task is not None and reminder.kind != ReminderKind.snooze and task.due_date != reminder.due_at
        if task is None or task.completed or moved:
            # The task changed after this was planned; the schedule consumer replans from that change.
            reminder.state = ReminderState.cancelled
            return None
        lateness = now - reminder.fire_at
        reminder.state, reminder.sent_at, reminder.late = ReminderState.sent, now, lateness > self.late_after
        if reminder.kind == ReminderKind.due:
            task.notified = True  # a system flag: no new version, no task-updated event
        kind = _event_kind(ReminderKind(reminder.kind), task, now)
        sent = ReminderSent.model_validate(reminder, from_attributes=True)
        due = DuePayload.model_validate(task).model_copy(update={"reminder": sent})
        event = tasks.event(kind, task, at=now, carrying=due)
        return event, reminder.kind, max(lateness.total_seconds(), 0.0)

    async def next_due(self) -> datetime | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(func.min(Reminder.fire_at)).where(Reminder.state == ReminderState.pending)
            )


def _event_kind(reminder: ReminderKind, task: Task, now: datetime) -> EventKind:
    """A snooze says due soon or due by the task's state; an occurrence of a series comes due as the
    spec's `recurring-task-due`."""
    if reminder == ReminderKind.snooze:
        overdue = task.due_date is not None and task.due_date <= now
        reminder = ReminderKind.due if overdue else ReminderKind.due_soon
    if reminder == ReminderKind.due_soon:
        return TASK_DUE_SOON
    return RECURRING_TASK_DUE if task.recurring_task_id is not None else TASK_DUE
