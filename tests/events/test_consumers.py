"""The consumer framework's contract, and the analytics consumer on top of it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import ContainerFactory
from todo.analytics.consumer import analytics_consumer
from todo.analytics.models import AnalyticsTask
from todo.events.consumers import Consumer, deliver, deliver_batch, deliver_to_all
from todo.events.envelope import CloudEvent, MalformedEvent, parse_cloudevent
from todo.events.models import ProcessedEvent
from todo.events.transport import DeliveryStatus


def task_event(
    version: int, *, type_: str = "todo.task.updated.v1", event_id: str | None = None, **data: object
) -> CloudEvent:
    task_id = data.pop("id", "7b0a3a52-0000-4000-8000-000000000001")
    payload = {  # a task's v1 payload: every field, as the producer writes it
        "id": task_id,
        "user_id": "7b0a3a52-0000-4000-8000-0000000000aa",
        "version": version,
        "title": "Water the plants",
        "description": None,
        "priority": 2,
        "tags": [],
        "reminder_minutes": None,
        "notified": False,
        "recurring_task_id": None,
        "occurrence_at": None,
        "created_at": "2026-06-15T12:00:00+00:00",
        "updated_at": "2026-06-15T12:00:00+00:00",
        "due_date": None,
        "completed": False,
        "completed_at": None,
        **data,
    }
    return CloudEvent(
        id=event_id or str(uuid.uuid4()), source="test", type=type_, subject=str(task_id),
        time="2026-06-15T12:00:00+00:00", topic="task-updated", data=payload,
    )  # fmt: skip


async def projection(sessions: object) -> list[AnalyticsTask]:
    async with sessions() as session:  # type: ignore[operator]
        return list((await session.scalars(select(AnalyticsTask))).all())


async def test_duplicate_delivery_changes_nothing(make_container: ContainerFactory) -> None:
    container = await make_container(start=False)
    calls: list[str] = []

    async def count(event: CloudEvent, session: AsyncSession) -> None:
        calls.append(event.id)

    consumer = Consumer(name="counter", topics=("task-updated",), handle=count)
    event = task_event(1)
    assert await deliver(consumer, event, container.sessions) is DeliveryStatus.SUCCESS
    assert await deliver(consumer, event, container.sessions) is DeliveryStatus.SUCCESS
    assert calls == [event.id]


async def test_malformed_event_is_dropped_and_failure_is_retried(make_container: ContainerFactory) -> None:
    container = await make_container(start=False)
    attempts = 0

    async def flaky(event: CloudEvent, session: AsyncSession) -> None:
        nonlocal attempts
        attempts += 1
        if attempts <= 2:  # the batch try and the careful one-by-one try both fail
            raise ConnectionError("database hiccup")

    consumer = Consumer(name="flaky", topics=("task-updated",), handle=flaky)
    event = task_event(1)
    assert await deliver(consumer, event, container.sessions) is DeliveryStatus.RETRY
    assert (
        await deliver(consumer, event, container.sessions) is DeliveryStatus.SUCCESS
    )  # not marked done before
    assert attempts == 3
    bad = task_event(1, id="not-a-uuid")
    assert await deliver(analytics_consumer, bad, container.sessions) is DeliveryStatus.DROP
    async with container.sessions() as session:
        recorded = await session.scalar(
            select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.event_id == bad.id)
        )
    assert recorded == 0  # the DROP rolled back with everything else


async def test_analytics_ignores_stale_versions(make_container: ContainerFactory) -> None:
    container = await make_container(start=False)
    done_at = "2026-06-15T13:00:00+00:00"
    newer = task_event(3, completed=True, completed_at=done_at, type_="todo.task.completed.v1")
    older = task_event(2, completed=False)
    for event in (task_event(1, type_="todo.task.created.v1"), newer, older):
        assert await deliver(analytics_consumer, event, container.sessions) is DeliveryStatus.SUCCESS
    [row] = await projection(container.sessions)
    assert (row.version, row.completed, row.completed_at) == (3, True, datetime(2026, 6, 15, 13, tzinfo=UTC))


def test_parse_cloudevent_rejects_what_it_cannot_use() -> None:
    for payload, fragment in [
        ("a string", "not a JSON object"),
        ({"id": "1", "source": "s", "type": "t"}, "specversion"),
        (
            {"id": "1", "source": "s", "type": "t", "specversion": "1.0", "data": [1]},
            "data is not a JSON object",
        ),
    ]:
        with pytest.raises(MalformedEvent, match=fragment):
            parse_cloudevent(payload, topic="task-created")
    event = parse_cloudevent(
        {"id": "1", "source": "s", "type": "t", "specversion": "1.0", "subject": "x", "data": {"a": 1}},
        topic="task-created",
    )
    assert (event.id, event.topic, event.data) == ("1", "task-created", {"a": 1})


async def test_batch_delivery_commits_up_to_the_first_retry_and_skips_drops(
    make_container: ContainerFactory,
) -> None:
    container = await make_container(start=False)

    async def committed() -> set[str]:
        async with container.sessions() as session:
            query = select(ProcessedEvent.event_id).where(ProcessedEvent.consumer == "batch")
            return set(await session.scalars(query))

    async def handle(event: CloudEvent, session: AsyncSession) -> None:
        if event.data.get("bad"):
            raise MalformedEvent("bad payload")
        if event.data.get("flaky"):
            raise ConnectionError("try later")

    consumer = Consumer(name="batch", topics=("task-updated",), handle=handle)
    events = [task_event(1), task_event(1, bad=True), task_event(1), task_event(1, flaky=True), task_event(1)]
    statuses = await deliver_batch(consumer, events, container.sessions)
    assert statuses == [
        DeliveryStatus.SUCCESS,
        DeliveryStatus.DROP,
        DeliveryStatus.SUCCESS,
        DeliveryStatus.RETRY,
    ]
    assert await committed() == {events[0].id, events[2].id}
    # redelivering the whole batch: the done ones are skipped, the rest are handled
    events[3] = task_event(1, event_id=events[3].id)
    again = await deliver_batch(consumer, events, container.sessions)
    ok, drop = DeliveryStatus.SUCCESS, DeliveryStatus.DROP
    assert again == [ok, drop, ok, ok, ok]
    assert await committed() == {events[0].id, events[2].id, events[3].id, events[4].id}


async def test_a_batch_leaves_what_its_events_one_by_one_would(make_container: ContainerFactory) -> None:
    """Analytics folds a batch into one upsert: out of order, repeated and stale events included."""
    container = await make_container(start=False)
    done_at = "2026-06-15T13:00:00+00:00"
    other = "7b0a3a52-0000-4000-8000-000000000002"
    assert await deliver(analytics_consumer, task_event(4), container.sessions) is DeliveryStatus.SUCCESS
    batch = [
        task_event(1, type_="todo.task.created.v1", id=other),
        task_event(3, id=other, completed=True, completed_at=done_at, type_="todo.task.completed.v1"),
        task_event(2, id=other),
        task_event(3),  # older than what the projection holds for the first task
    ]
    assert await deliver_batch(analytics_consumer, batch, container.sessions) == [DeliveryStatus.SUCCESS] * 4
    rows = {str(r.task_id): (r.version, r.completed) for r in await projection(container.sessions)}
    assert rows == {"7b0a3a52-0000-4000-8000-000000000001": (4, False), other: (3, True)}


async def test_consumers_of_a_delivery_share_a_transaction_until_one_fails(
    make_container: ContainerFactory,
) -> None:
    """One consumer failing on an event holds back none of the others: each is then delivered to alone,
    the failing one up to that event (RETRY), the other in full."""
    container = await make_container(start=False)
    handled: list[str] = []

    async def steady(event: CloudEvent, session: AsyncSession) -> None:
        handled.append(event.id)

    async def picky(event: CloudEvent, session: AsyncSession) -> None:
        if event.data.get("flaky"):
            raise ConnectionError("try later")

    consumers = [Consumer(name="steady", topics=("task-updated",), handle=steady),
                 Consumer(name="picky", topics=("task-updated",), handle=picky)]  # fmt: skip
    events = [task_event(1), task_event(2, flaky=True), task_event(3)]
    statuses = await deliver_to_all(consumers, events, container.sessions)
    assert statuses == [DeliveryStatus.SUCCESS, DeliveryStatus.RETRY, DeliveryStatus.RETRY]
    async with container.sessions() as session:
        rows = await session.execute(select(ProcessedEvent.consumer, ProcessedEvent.event_id))
        claimed = {(consumer, event_id) for consumer, event_id in rows}
    assert claimed == {("steady", e.id) for e in events} | {("picky", events[0].id)}
    # a redelivery finds every one of steady's events done
    assert await deliver_to_all(consumers[:1], events, container.sessions) == [DeliveryStatus.SUCCESS] * 3
    assert handled.count(events[0].id) == 2  # once in the rolled-back shared attempt, once alone
