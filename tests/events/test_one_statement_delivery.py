"""A delivery its consumers can apply without reading what they change is claimed and applied in one
statement on PostgreSQL (decision 70): the same rows as the transaction, one round trip."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.conftest import START, ContainerFactory, eventually
from tests.events.test_consumers import task_event
from todo.analytics.models import AnalyticsTask
from todo.auth.models import User
from todo.bootstrap import Container
from todo.events.consumers import deliver_to_all
from todo.events.envelope import CloudEvent
from todo.events.models import ProcessedEvent
from todo.events.transport import DeliveryStatus
from todo.notifications.models import Reminder, ReminderSource
from todo.projects.models import Project, ProjectMember
from todo.wakeups import WEBHOOKS
from todo.webhooks.models import Webhook, WebhookDelivery

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
    assert one_statement["claims"] == {(c, e.id) for c in ("analytics", "notifications-reminders", "webhooks")
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


async def test_webhook_deliveries_are_queued_in_the_one_statement_as_the_transaction_queues_them(
    make_container: ContainerFactory,
) -> None:
    """To the subscriptions of the project's members (the owner's alone when the event names no project),
    of the event's kind, in the events' order; a redelivery queues nothing twice."""
    container = await make_container(start=False)
    owner = task_event(1).user_id  # whose task events are
    member, stranger, project = (uuid.UUID(int=n) for n in (0xBB, 0xCC, 0xDD))
    async with container.sessions() as session, session.begin():
        for user_id in (owner, member, stranger):
            session.add(User(id=user_id, email=f"{user_id.hex[-2:]}@example.com", password_hash="-",
                             timezone="UTC", created_at=START, updated_at=START))  # fmt: skip
        await session.flush()
        session.add(Project(id=project, owner_id=owner, name="Home", color="#000000", created_at=START,
                            updated_at=START))  # fmt: skip
        await session.flush()
        session.add_all([ProjectMember(project_id=project, user_id=u, role=r, position=1, added_at=START)
                         for u, r in ((owner, "owner"), (member, "viewer"))])  # fmt: skip
        hooks = {name: Webhook(id=uuid.uuid4(), user_id=user_id, url="https://example.com/h", events=events,
                               secret="s" * 16, active=True, failures=0, created_at=START, updated_at=START)
                 for name, user_id, events in (("owner", owner, ["task.created"]),
                                               ("member", member, ["task.created", "task.due"]),
                                               ("completions", member, ["task.completed"]),
                                               ("stranger", stranger, ["task.created"]))}  # fmt: skip
        session.add_all(hooks.values())
    mine, shared = creation(1), creation(2, project_id=str(project))

    async def queued() -> list[tuple[uuid.UUID, str, str]]:
        async with container.sessions() as session:
            query = select(WebhookDelivery.webhook_id, WebhookDelivery.event_id, WebhookDelivery.event_type)
            return [tuple(row) for row in await session.execute(query.order_by(WebhookDelivery.seq))]

    with statements(container) as seen:
        assert await deliver(container, [mine, shared], True) == [DeliveryStatus.SUCCESS] * 2
    assert len(seen) == 1, seen
    in_one = await queued()
    assert in_one[0] == (hooks["owner"].id, mine.id, "task.created")
    assert set(in_one[1:]) == {(hooks["owner"].id, shared.id, "task.created"),
                               (hooks["member"].id, shared.id, "task.created")}  # fmt: skip
    assert await deliver(container, [mine, shared], True) == [DeliveryStatus.SUCCESS] * 2
    assert await queued() == in_one  # nothing twice

    await _empty(container)
    assert await deliver(container, [mine, shared], False) == [DeliveryStatus.SUCCESS] * 2
    by_transaction = await queued()
    assert (by_transaction[0], set(by_transaction)) == (in_one[0], set(in_one))


async def _empty(container: Container) -> None:
    async with container.sessions() as session, session.begin():
        for model in (AnalyticsTask, ReminderSource, ProcessedEvent, Reminder, WebhookDelivery):
            await session.execute(model.__table__.delete())  # type: ignore[attr-defined]


async def _owner(container: Container, user_id: uuid.UUID) -> None:
    async with container.sessions() as session, session.begin():
        session.add(User(id=user_id, email="owner@example.com", password_hash="-", timezone="UTC",
                         created_at=START, updated_at=START))  # fmt: skip


async def test_the_database_announces_queued_webhook_deliveries_to_every_process(
    make_container: ContainerFactory,
) -> None:
    """The one statement has no transaction of ours to send a NOTIFY from: the table's trigger does
    (migration 0012), and only when the statement queued something."""
    container = await make_container()  # listening
    heard: list[str] = []
    container.wakeups.subscribe(WEBHOOKS, heard.append)

    async def announced() -> bool:
        return bool(heard)

    await eventually(announced)  # the listener wakes every channel once as it connects: it is listening
    owner = task_event(1).user_id
    async with container.sessions() as session, session.begin():
        session.add(User(id=owner, email="owner@example.com", password_hash="-", timezone="UTC",
                         created_at=START, updated_at=START))  # fmt: skip
        await session.flush()
        session.add(Webhook(id=uuid.uuid4(), user_id=owner, url="https://example.com/h",
                            events=["task.created"], secret="s" * 16, active=True, failures=0,
                            created_at=START, updated_at=START))  # fmt: skip
    heard.clear()
    assert await deliver(container, [creation(1)], True) == [DeliveryStatus.SUCCESS]
    await eventually(announced)
