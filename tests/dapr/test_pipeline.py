"""Events through real sidecars and a real broker: the API's outbox -> daprd -> Kafka -> daprd -> the
notifications service's consumers, and their effects back through the API.

The waits are generous (up to 3 minutes): they bound a hang, they are not latency claims, and a sidecar that
joins the consumer group right after another left can wait for the group to rebalance first."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from tests.conftest import eventually
from tests.dapr.conftest import Stack
from todo.analytics.models import AnalyticsTask
from todo.auth.models import User
from todo.config import Role
from todo.dapr_local import Service
from todo.events.models import ProcessedEvent, TaskEvent
from todo.events.relay import to_cloudevent
from todo.platform.metrics import CONSUMED
from todo.tasks import service as tasks
from todo.tasks.models import Task
from todo.tasks.schemas import TaskPatch

pytestmark = [pytest.mark.postgres, pytest.mark.dapr]
DEVSTACK = Path(__file__).resolve().parents[2] / "scripts" / "devstack"


async def test_a_task_travels_through_kafka_and_comes_back_as_effects(stack: Stack) -> None:
    api = await stack.start(Role.api)
    await stack.start(Role.notifications)
    async with httpx.AsyncClient(base_url=api.url, timeout=10) as http:
        registered = await http.post(
            "/api/auth/register", json={"email": "dapr@example.com", "password": "password123"}
        )
        auth = {"Authorization": f"Bearer {registered.json()['access_token']}"}
        due = datetime.now(UTC) + timedelta(seconds=3)
        task = (await http.post("/api/tasks", json={"title": "Through Kafka", "due_date": due.isoformat()},
                                headers=auth)).json()  # fmt: skip

        async def reminder_planned() -> bool:  # the schedule consumer ran in the notifications service
            reminders = (await http.get(f"/api/tasks/{task['id']}/reminders", headers=auth)).json()
            return [r["kind"] for r in reminders] == ["due"]

        async def counted() -> bool:  # the analytics consumer too
            return (await http.get("/api/stats", headers=auth)).json()["totals"]["created"] == 1

        async def notified() -> bool:  # its clock fired, the due event went round the broker to the inbox
            return (await http.get("/api/notifications", headers=auth)).json()["total"] == 1

        await eventually(reminder_planned, within=180)  # bounds against hanging, not latency claims
        await eventually(counted, within=30)
        await eventually(notified, within=30)
        [note] = (await http.get("/api/notifications", headers=auth)).json()["items"]
        assert (note["kind"], note["title"], note["task_id"]) == ("due", "Due now: Through Kafka", task["id"])
        assert await hops_observed(http) == {"outbox", "publish", "transit", "consume"}


async def hops_observed(http: httpx.AsyncClient) -> set[str]:
    """The hops of `todo_event_hop_seconds` with observations (the services share this process's
    registry); `transit` needs the Kafka record time that daprd passes with each bulk entry."""
    page = (await http.get("/metrics")).text
    return {
        sample.labels["hop"]
        for family in text_string_to_metric_families(page)
        for sample in family.samples
        if sample.name == "todo_event_hop_seconds_count" and sample.value > 0
    }


async def first_task_through(
    http: httpx.AsyncClient, notifications: Service, email: str, title: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """Sign up and create one task, and wait until it went round Kafka (the group has joined): the auth
    header and the task."""
    auth = await register(http, email)
    task = (await http.post("/api/tasks", json={"title": title}, headers=auth)).json()
    await eventually(lambda: _equal(processed(notifications, "analytics"), 1), within=180)
    return auth, task


async def register(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await http.post("/api/auth/register", json={"email": email, "password": "password123"})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def processed(service: Service, consumer: str) -> int:
    async with service.container.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.consumer == consumer)
        )
    return count or 0


async def published_task_events(service: Service) -> int:
    """Task events the analytics consumer reads (series events ride the same topics)."""
    async with service.container.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(TaskEvent)
            .where(TaskEvent.topic.in_(["task-created", "task-updated", "task-completed", "task-deleted"]))
        )
    return count or 0


async def test_a_consumer_that_was_down_processes_every_missed_event_once(stack: Stack) -> None:
    api = await stack.start(Role.api)
    notifications = await stack.start(Role.notifications)
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        auth, _ = await first_task_through(http, notifications, "down@example.com", "before")
        await notifications.stop()  # the service and its sidecar are gone
        ids = []
        for n in range(200):  # 1,000 changes: 200 creations and 800 edits
            task = (await http.post("/api/tasks", json={"title": f"t{n}"}, headers=auth)).json()
            ids.append(task["id"])
            for priority in (1, 3, 2, 1):
                await http.patch(f"/api/tasks/{task['id']}", json={"priority": priority}, headers=auth)
        assert await published_task_events(api) == 1 + 1000
        back = await stack.start(Role.notifications)  # same app-id: Kafka resumes from its committed offset
        await eventually(lambda: _equal(processed(back, "analytics"), 1001), within=120)
        stats = (await http.get("/api/stats", headers=auth)).json()
        assert stats["totals"]["created"] == 201
    async with back.container.sessions() as session:
        versions = set(
            await session.scalars(select(AnalyticsTask.version).where(AnalyticsTask.task_id.in_(ids)))
        )
    assert versions == {5}  # every edit applied, in order, once
    assert await processed(back, "analytics") == 1001  # and nothing twice


async def _equal(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


Records = list[ConsumerRecord[bytes, bytes]]


async def read_topic(kafka: str, topic: str, *, until: Callable[[Records], bool]) -> Records:
    """Every record of `topic` from its start, read until `until` holds (or 60 s pass)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    records: Records = []
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while not until(records) and asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def test_poison_goes_to_the_dead_letter_topic_and_duplicates_change_nothing(stack: Stack) -> None:
    api = await stack.start(Role.api)
    notifications = await stack.start(Role.notifications)
    kafka = stack.parts.kafka
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        auth, task = await first_task_through(http, notifications, "poison@example.com", "target")

        producer = AIOKafkaProducer(bootstrap_servers=kafka)
        await producer.start()
        try:
            poison = {"specversion": "1.0", "id": "poison-1", "source": "test", "data": "not an object",
                      "type": "todo.task.updated.v1", "datacontenttype": "application/json"}  # fmt: skip
            await producer.send_and_wait("task-updated", json.dumps(poison).encode(), key=task["id"].encode())
            async with api.container.sessions() as session:
                created = await session.scalar(
                    select(TaskEvent).where(TaskEvent.subject == uuid.UUID(task["id"]))
                )
            assert created is not None
            duplicate = to_cloudevent(created).to_json()
            before = _consumed("analytics", "task-created")
            await producer.send_and_wait(
                "task-created", json.dumps(duplicate).encode(), key=task["id"].encode()
            )
        finally:
            await producer.stop()
        # the partition is not blocked: a real change behind the poison is handled
        await http.patch(f"/api/tasks/{task['id']}", json={"title": "after the poison"}, headers=auth)
        await eventually(lambda: _equal(processed(notifications, "analytics"), 2), within=180)

    dead = await read_topic(kafka, "dead-letters", until=lambda records: bool(records))
    assert [json.loads(r.value)["id"] for r in dead] == ["poison-1"]
    await eventually(lambda: _true(_consumed("analytics", "task-created") == before + 1), within=180)
    assert await processed(notifications, "analytics") == 2  # the duplicate was seen and ignored


async def test_many_updates_to_one_task_stay_in_order(stack: Stack) -> None:
    """50 updates one request at a time, then 50 more in one transaction (so the relay publishes them in one
    bulk call): the broker holds all 100 in version order on one partition."""
    api = await stack.start(Role.api)
    notifications = await stack.start(Role.notifications)
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        auth = await register(http, "order@example.com")
        task = (await http.post("/api/tasks", json={"title": "v1"}, headers=auth)).json()
        for n in range(2, 52):
            await http.patch(f"/api/tasks/{task['id']}", json={"title": f"v{n}"}, headers=auth)
    async with api.container.sessions() as session, session.begin():
        row = await session.get(Task, uuid.UUID(task["id"]))
        owner = None if row is None else await session.get(User, row.user_id)
        assert owner is not None
        for n in range(52, 102):
            patch = TaskPatch(title=f"v{n}")
            await tasks.update(
                session, user=owner, task_id=uuid.UUID(task["id"]), patch=patch, now=datetime.now(UTC)
            )
    key = task["id"].encode()
    updates = await read_topic(stack.parts.kafka, "task-updated",
                               until=lambda records: sum(r.key == key for r in records) >= 100)  # fmt: skip
    mine = [r for r in updates if r.key == key]
    assert [json.loads(r.value)["data"]["version"] for r in mine] == list(range(2, 102))
    assert len({r.partition for r in mine}) == 1  # one task, one partition: Kafka keeps the order
    await eventually(lambda: _equal(processed(notifications, "analytics"), 101), within=180)
    async with notifications.container.sessions() as session:
        row = await session.get(AnalyticsTask, uuid.UUID(task["id"]))
    assert row is not None
    assert row.version == 101


def _consumed(consumer: str, topic: str) -> float:
    return CONSUMED.labels(consumer=consumer, topic=topic, status="SUCCESS")._value.get()  # type: ignore[attr-defined]


async def _true(value: bool) -> bool:
    return value


def devstack(*args: str) -> None:
    subprocess.run([str(DEVSTACK), *args], check=True, capture_output=True, timeout=120)


async def test_writes_go_on_while_the_broker_is_down_and_nothing_is_lost(stack: Stack) -> None:
    api = await stack.start(Role.api)
    notifications = await stack.start(Role.notifications)
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        auth, _ = await first_task_through(http, notifications, "outage@example.com", "before the outage")
        await asyncio.to_thread(devstack, "stop", "kafka")
        try:
            written, outage_ends = 0, asyncio.get_running_loop().time() + 30
            while asyncio.get_running_loop().time() < outage_ends:  # 30 s without a broker
                response = await http.post("/api/tasks", json={"title": f"during {written}"}, headers=auth)
                assert response.status_code == 201, response.text  # writes never wait for the broker
                written += 1
                await asyncio.sleep(0.2)
            assert await unpublished(api) > 0  # the outbox held them
        finally:
            await asyncio.to_thread(devstack, "up", "kafka")
        await eventually(lambda: _equal(processed(notifications, "analytics"), 1 + written), within=180)
        # A publish the relay gave up on (its call timed out while the sidecar's producer reconnected) may
        # have reached Kafka and the consumer all the same: the relay marks it when it publishes it again,
        # after its back-off, and the consumer drops that copy
        await eventually(lambda: _equal(unpublished(api), 0), within=90)
        assert (await http.get("/api/stats", headers=auth)).json()["totals"]["created"] == 1 + written
    assert await processed(notifications, "analytics") == 1 + written  # none twice


async def unpublished(service: Service) -> int:
    async with service.container.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(TaskEvent).where(TaskEvent.published_at.is_(None))
        )
    return count or 0
