"""A delivery its consumers can apply without reading what they change is claimed and applied in one
statement on PostgreSQL (decision 70): the same rows as the transaction, one round trip."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.conftest import START, ContainerFactory
from tests.events.test_consumers import task_event
from todo.analytics.models import AnalyticsTask
from todo.auth.models import User
from todo.bootstrap import Container
from todo.events.consumers import deliver_to_all
from todo.events.envelope import CloudEvent
from todo.events.models import ProcessedEvent
from todo.events.transport import DeliveryStatus
from todo.notifications.models import Reminder, ReminderSource

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
CREATED = "todo.task.created.v1"


@contextmanager
def statements(container: Container) -> Iterator[list[str]]:
    """The SQL statements the container's engine runs meanwhile (BEGIN and COMMIT are not statements
    here: asyncpg sends them itself, which is why a transaction is counted by its statements)."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(container.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(container.engine.sync_engine, "before_cursor_execute", note)


def creation(n: int, **data: Any) -> CloudEvent:
    return task_event(1, type_=CREATED, id=str(uuid.UUID(int=n)), **data)


async def deliver(
    container: Container, events: list[CloudEvent], one_statement: bool
) -> list[DeliveryStatus]:
    consumers = container.consumers.for_topic("task-created")
    sessions = container.one_statement_sessions if one_statement else None
    return await deliver_to_all(consumers, events, container.sessions, one_statement=sessions)


async def state(container: Container) -> dict[str, Any]:
    async with container.sessions() as session:
        analytics = await session.execute(select(AnalyticsTask.task_id, AnalyticsTask.version,
                                                 AnalyticsTask.completed, AnalyticsTask.user_id))  # fmt: skip
        sources = await session.execute(select(ReminderSource.task_id, ReminderSource.version))
        claims = await session.execute(select(ProcessedEvent.consumer, ProcessedEvent.event_id))
        reminders = await session.execute(select(Reminder.task_id, Reminder.kind, Reminder.fire_at))
        return {"analytics": set(analytics), "sources": set(sources), "claims": set(claims),
                "reminders": set(reminders)}  # fmt: skip


async def test_a_delivery_of_creations_is_one_statement_with_the_transactions_rows(
    make_container: ContainerFactory,
) -> None:
    container = await make_container(start=False)
    first, second, third = creation(1), creation(2), creation(3)
    with statements(container) as seen:
        assert await deliver(container, [first, second, first], True) == [DeliveryStatus.SUCCESS] * 3
    assert len(seen) == 1, seen
    one_statement = await state(container)

    # the same delivery through the transaction, on an empty database, leaves the same rows
    await _empty(container)
    with statements(container) as seen:
        assert await deliver(container, [first, second, first], False) == [DeliveryStatus.SUCCESS] * 3
    assert len(seen) > 1
    assert await state(container) == one_statement
    assert one_statement["claims"] == {(c, e.id) for c in ("analytics", "notifications-reminders")
                                       for e in (first, second)}  # fmt: skip
    assert {row.version for row in one_statement["analytics"]} == {1}

    # a redelivery changes nothing; a newer event applied meanwhile is not undone by a replayed creation
    newer = task_event(2, id=str(uuid.UUID(int=2)), completed=True, type_="todo.task.completed.v1",
                       completed_at="2026-06-15T13:00:00+00:00")  # fmt: skip
    assert await deliver(container, [newer], False) == [DeliveryStatus.SUCCESS]
    before = await state(container)
    with statements(container) as seen:
        assert await deliver(container, [second, third], True) == [DeliveryStatus.SUCCESS] * 2
    assert len(seen) == 1
    after = await state(container)
    assert after["analytics"] - before["analytics"] == {(uuid.UUID(int=3), 1, False, third.user_id)}
    assert (uuid.UUID(int=2), 2, True, second.user_id) in after["analytics"]
    assert after["sources"] == before["sources"] | {(uuid.UUID(int=3), 1)}


async def test_a_creation_with_a_due_time_plans_its_reminders_in_the_transaction(
    make_container: ContainerFactory,
) -> None:
    container = await make_container(start=False)
    await _owner(container, task_event(1).user_id)
    due = creation(1, due_date="2026-06-16T09:00:00+00:00", reminder_minutes=[0])
    with statements(container) as seen:
        assert await deliver(container, [creation(2), due], True) == [DeliveryStatus.SUCCESS] * 2
    assert len(seen) > 1  # the schedule read what it changes
    reminders = (await state(container))["reminders"]
    assert {(task_id, kind) for task_id, kind, _ in reminders} == {(uuid.UUID(int=1), "due")}


async def test_a_malformed_event_in_a_one_statement_delivery_is_dropped_alone(
    make_container: ContainerFactory,
) -> None:
    container = await make_container(start=False)
    good, bad = creation(1), task_event(1, type_=CREATED, id="not-a-uuid")
    statuses = await deliver(container, [good, bad], True)
    assert statuses == [DeliveryStatus.SUCCESS, DeliveryStatus.DROP]
    assert {task_id for task_id, *_ in (await state(container))["analytics"]} == {uuid.UUID(int=1)}


async def _empty(container: Container) -> None:
    async with container.sessions() as session, session.begin():
        for model in (AnalyticsTask, ReminderSource, ProcessedEvent, Reminder):
            await session.execute(model.__table__.delete())  # type: ignore[attr-defined]


async def _owner(container: Container, user_id: uuid.UUID) -> None:
    async with container.sessions() as session, session.begin():
        session.add(User(id=user_id, email="owner@example.com", password_hash="-", timezone="UTC",
                         created_at=START, updated_at=START))  # fmt: skip
