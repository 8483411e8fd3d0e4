"""Two notifications services on one PostgreSQL: 1,000 series and 1,000 reminders due at the same moment
are each handled exactly once, and both replicas take a share of the work."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import START, ContainerFactory
from todo.auth.models import User
from todo.bootstrap import Container
from todo.events.models import TaskEvent
from todo.notifications.models import Notification, Reminder, ReminderState
from todo.notifications.schedule import ReminderKind
from todo.projects.inbox import add_inbox
from todo.recurrence.models import RecurringTask
from todo.tasks.models import Task

N = 1_000


async def seed(container: Container) -> None:
    """A thousand series and a thousand task reminders, all due one minute ago."""
    due = START - timedelta(minutes=1)
    async with container.sessions() as session, session.begin():
        user = User(id=uuid.uuid4(), email="busy@example.com", password_hash="x", timezone="UTC")
        session.add(user)
        add_inbox(session, user, START)
        for i in range(N):
            session.add(RecurringTask(user_id=user.id, project_id=user.id, title=f"series {i}",
                                      recurrence_type="daily", start_date=due, timezone="UTC",
                                      next_due_at=due, next_create_at=due))  # fmt: skip
            task = Task(id=uuid.uuid4(), user_id=user.id, project_id=user.id, title=f"task {i}", due_date=due)
            session.add(task)
            session.add(Reminder(task_id=task.id, user_id=user.id, kind=ReminderKind.due.value, due_at=due,
                                 fire_at=due, state=ReminderState.pending.value, task_version=1))  # fmt: skip


async def run_until_idle(container: Container) -> None:
    for worker in (container.occurrences, container.reminders):
        worker.batch_size = 50  # small batches: the replicas interleave many times
        while await worker.tick():
            pass


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_replicas_create_each_occurrence_and_send_each_reminder_once(
    make_container: ContainerFactory,
) -> None:
    first = await make_container(start=False, app_id="replica-1")
    second = await make_container(start=False, app_id="replica-2")
    await seed(first)

    await asyncio.gather(run_until_idle(first), run_until_idle(second), run_until_idle(first))

    async with first.sessions() as session:
        per_series = await session.execute(
            select(func.count()).select_from(Task).where(Task.recurring_task_id.is_not(None))
            .group_by(Task.recurring_task_id)
        )  # fmt: skip
        # every series its due occurrence and the next one ahead, none twice
        assert sorted(n for (n,) in per_series) == [2] * N
        events = dict((await session.execute(
            select(TaskEvent.topic, func.count(func.distinct(TaskEvent.subject))).group_by(TaskEvent.topic)
        )).all())  # fmt: skip
        totals = dict(
            (await session.execute(select(TaskEvent.topic, func.count()).group_by(TaskEvent.topic))).all()
        )
        writers = set(await session.scalars(select(TaskEvent.source).distinct()))
        unsent = await session.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.state != ReminderState.sent)
        )
    assert events == {"task-created": 2 * N, "recurring-task-due": N, "task-due": N}
    assert totals == events
    assert unsent == 0
    assert writers == {"replica-1", "replica-2"}  # both took part

    while await first.relay.drain():  # deliver: one notification per reminder and per occurrence
        pass
    async with first.sessions() as session:
        kinds = dict((await session.execute(
            select(Notification.kind, func.count()).group_by(Notification.kind)
        )).all())  # fmt: skip
    assert kinds == {"due": N, "occurrence_due": N}
