"""The outbox: writes never wait for the transport, nothing is lost, per-task order holds."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence

import httpx
import pytest
from sqlalchemy import func, select, text, update

from tests.conftest import ContainerFactory, eventually
from todo.apps import create_api_app
from todo.bootstrap import Container
from todo.events.envelope import CloudEvent
from todo.events.local import LocalTransport
from todo.events.models import ProcessedEvent, TaskEvent


class FlakyTransport:
    """The real in-process transport behind a switch that can make every publish fail."""

    def __init__(self) -> None:
        self.inner: LocalTransport | None = None
        self.down = False
        self.published: list[CloudEvent] = []

    async def publish(self, events: Sequence[CloudEvent]) -> int:
        if self.down:
            raise ConnectionError("broker unreachable")
        assert self.inner is not None
        accepted = await self.inner.publish(events)
        self.published.extend(events[:accepted])
        return accepted

    async def close(self) -> None:
        return None


async def flaky_container(
    make_container: ContainerFactory, **overrides: object
) -> tuple[Container, FlakyTransport]:
    transport = FlakyTransport()
    container = await make_container(publisher=transport, **overrides)
    transport.inner = LocalTransport(container.consumers, container.sessions)
    return container, transport


def api(container: Container) -> httpx.AsyncClient:
    app = create_api_app(container, manage_lifecycle=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def login(http: httpx.AsyncClient) -> dict[str, str]:
    response = await http.post("/api/auth/register", json={"email": f"{uuid.uuid4().hex}@example.com",
                                                           "password": "password123"})  # fmt: skip
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def unpublished(container: Container) -> int:
    async with container.sessions() as session:
        count = await session.scalar(select(func.count()).where(TaskEvent.published_at.is_(None)))
    return count or 0


async def test_writes_succeed_while_the_transport_is_down_and_arrive_in_order_after(
    make_container: ContainerFactory,
) -> None:
    container, transport = await flaky_container(make_container)
    transport.down = True
    async with api(container) as http:
        auth = await login(http)
        ids = []
        for n in range(3):
            task = (await http.post("/api/tasks", json={"title": f"t{n}"}, headers=auth)).json()
            ids.append(task["id"])
            for p in (1, 3, 2):
                response = await http.patch(f"/api/tasks/{task['id']}", json={"priority": p}, headers=auth)
                assert response.status_code == 200
        assert await unpublished(container) == 12
        await eventually(lambda: _attempted(container))  # the relay has tried, and failed, meanwhile
        assert transport.published == []
        transport.down = False
        container.relay.wake()
        await eventually(lambda: drained(container), within=10)
    for task_id in ids:
        versions = [e.data["version"] for e in transport.published if e.subject == task_id]
        assert versions == [1, 2, 3, 4]
    assert len({e.id for e in transport.published}) == 12


async def _attempted(container: Container) -> bool:
    async with container.sessions() as session:
        failed = await session.scalar(select(func.max(TaskEvent.publish_attempts)))
    return failed is not None and failed >= 1


async def drained(container: Container) -> bool:
    return await unpublished(container) == 0


async def test_relay_is_woken_by_commit_not_by_polling(make_container: ContainerFactory) -> None:
    container, transport = await flaky_container(make_container, relay_poll_seconds=60.0)
    async with api(container) as http:
        auth = await login(http)
        await http.post("/api/tasks", json={"title": "now"}, headers=auth)
        await eventually(lambda: _has(transport, 1), within=20)  # a poll would take 60 s


async def _has(transport: FlakyTransport, n: int) -> bool:
    return len(transport.published) >= n


async def test_crash_between_publish_and_mark_redelivers_and_consumers_ignore_it(
    make_container: ContainerFactory,
) -> None:
    container, _transport = await flaky_container(make_container)
    async with api(container) as http:
        auth = await login(http)
        await http.post("/api/tasks", json={"title": "once"}, headers=auth)
        await eventually(lambda: drained(container))
        stats = (await http.get("/api/stats", headers=auth)).json()
    assert stats["totals"]["created"] == 1
    # simulate a crash after publishing but before marking: the process is gone (its relay would
    # otherwise republish the row at once) and the row is unpublished again
    await container.stop()
    async with container.sessions() as session, session.begin():
        await session.execute(update(TaskEvent).values(published_at=None))
    restarted, again = await flaky_container(make_container)
    await eventually(lambda: drained(restarted))
    assert len(again.published) == 1  # redelivered...
    async with api(restarted) as http:
        assert (await http.get("/api/stats", headers=auth)).json()["totals"]["created"] == 1  # ...and ignored
    async with restarted.sessions() as session:
        counts = select(ProcessedEvent.consumer, func.count()).group_by(ProcessedEvent.consumer)
        per_consumer = {name: n for name, n in (await session.execute(counts)).all()}
    assert per_consumer == {"analytics": 1, "notifications-reminders": 1, "webhooks": 1}  # each, once


async def test_a_restarted_relay_publishes_what_was_left(make_container: ContainerFactory) -> None:
    first = await make_container(start=False)  # the relay never runs: as if the process died after commit
    async with api(first) as http:
        auth = await login(http)
        for n in range(5):
            await http.post("/api/tasks", json={"title": f"left {n}"}, headers=auth)
    assert await unpublished(first) == 5
    second, transport = await flaky_container(make_container)
    await eventually(lambda: _has(transport, 5))
    assert [e.data["title"] for e in transport.published] == [f"left {n}" for n in range(5)]
    async with api(second) as http:
        assert (await http.get("/api/stats", headers=auth)).json()["totals"]["created"] == 5


async def test_a_published_batch_is_marked_by_the_next_read_or_when_the_relay_stops(
    make_container: ContainerFactory,
) -> None:
    """The relay marks a batch with its next read (on PostgreSQL one statement), so a batch is never
    published twice by a relay that keeps running, and a stopping relay marks what it published last."""
    container, transport = await flaky_container(make_container, start=False)
    async with api(container) as http:
        auth = await login(http)
        for title in ("one", "two"):
            await http.post("/api/tasks", json={"title": title}, headers=auth)
        assert await container.relay.drain() == 2
        assert await unpublished(container) == 2  # published, marked by the next read
        await http.post("/api/tasks", json={"title": "three"}, headers=auth)
        assert await container.relay.drain() == 1  # the two are not read again
        assert await unpublished(container) == 1
    await container.relay.stop()
    await container.relay.run()  # ends at once, marking the last batch on its way out
    assert await unpublished(container) == 0
    assert [e.data["title"] for e in transport.published] == ["one", "two", "three"]


async def test_created_task_reaches_stats_through_the_relay(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await client.post(
        "/api/tasks", json={"title": "count me", "due_date": "2026-06-15T13:00:00Z"}, headers=auth
    )

    async def counted() -> bool:
        stats = (await client.get("/api/stats", headers=auth)).json()
        return bool(stats["totals"]["created"] == 1 and stats["totals"]["due_soon"] == 1)

    await eventually(counted, within=20)  # no timing claim: the relay and consumer did their part


async def test_only_one_relay_leads_on_postgresql(
    make_container: ContainerFactory, database_url: str
) -> None:
    """Two API replicas: one relay publishes, the other stands by and takes over when the first stops."""
    first = await make_container(start=False)
    second = await make_container(start=False)
    first_leads = await first.relay.leadership.acquire()
    second_leads = await second.relay.leadership.acquire()
    if database_url.startswith("sqlite"):
        assert (first_leads, second_leads) == (True, True)  # one process only: nothing to elect
        return
    assert (first_leads, second_leads) == (True, False)
    await first.relay.leadership.release()
    assert await second.relay.leadership.acquire() is True


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_leaders_marks_skip_the_flush_and_its_connection_goes_back_as_it_came(
    make_container: ContainerFactory,
) -> None:
    """The leader marks events published without waiting for the disk (a mark lost in a database crash
    only republishes); the connection it gives back to the pool waits for its commits again."""
    container = await make_container(start=False)
    assert await container.relay.leadership.acquire()
    held = container.relay.leadership.connection
    assert held is not None
    assert await held.scalar(text("SHOW synchronous_commit")) == "off"
    await container.relay.leadership.release()
    async with contextlib.AsyncExitStack() as stack:  # every connection the pool holds, the lock's among them
        pooled = [await stack.enter_async_context(container.engine.connect())
                  for _ in range(container.engine.pool.checkedin())]  # type: ignore[attr-defined]  # fmt: skip
        assert pooled
        assert {await c.scalar(text("SHOW synchronous_commit")) for c in pooled} == {"on"}


async def test_the_leader_hears_commits_made_by_another_process(
    make_container: ContainerFactory, database_url: str
) -> None:
    """A write in a replica whose relay is not the leader is published at once, not at the next poll."""
    leader, transport = await flaky_container(make_container, relay_poll_seconds=60.0)
    await eventually(lambda: _leads(leader))
    replica = await make_container(start=False, relay_poll_seconds=60.0)  # its relay never runs
    async with api(replica) as http:
        auth = await login(http)
        await http.post("/api/tasks", json={"title": "from the replica"}, headers=auth)
    if database_url.startswith("sqlite"):
        return  # one process per SQLite database: nothing to hear from
    await eventually(lambda: _has(transport, 1), within=20)  # a poll would take 60 s
    assert transport.published[0].data["title"] == "from the replica"


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_an_event_written_by_plain_sql_wakes_the_leader_at_once(
    make_container: ContainerFactory,
) -> None:
    """PostgreSQL announces outbox rows itself (a trigger): a writer outside the app, an operator's
    backfill say, is published at once too, not at the next poll."""
    leader, transport = await flaky_container(make_container, relay_poll_seconds=60.0)
    await eventually(lambda: _leads(leader))
    subject, user_id = uuid.uuid4(), uuid.uuid4()
    async with leader.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO task_events (id, topic, type, event_type, source, entity, subject, user_id, "
                "data, created_at, publish_attempts) VALUES (:id, 'task-created', 'todo.task.created.v1', "
                "'created', 'psql', 'task', :subject, :user_id, CAST(:data AS jsonb), now(), 0)"
            ),
            {"id": uuid.uuid4(), "subject": subject, "user_id": user_id, "data": '{"title": "backfilled"}'},
        )
    await eventually(lambda: _has(transport, 1), within=20)  # a poll would take 60 s
    assert transport.published[0].subject == str(subject)


async def _leads(container: Container) -> bool:
    return await container.relay.leadership.acquire()


async def test_the_listener_reconnects_after_losing_its_connection(
    make_container: ContainerFactory, database_url: str
) -> None:
    """The server drops the LISTEN connection; commits made elsewhere are still heard, not left to a poll."""
    if database_url.startswith("sqlite"):
        return  # no LISTEN on SQLite
    leader, transport = await flaky_container(make_container, relay_poll_seconds=60.0)
    await eventually(lambda: _leads(leader))
    await eventually(lambda: _listeners_other_than(leader, set()))
    dropped = await _listener_pids(leader)
    async with leader.engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"),
                           {"pids": sorted(dropped)})  # fmt: skip
    await eventually(lambda: _listeners_other_than(leader, dropped))  # listening again, on a new connection
    replica = await make_container(start=False, relay_poll_seconds=60.0)
    async with api(replica) as http:
        auth = await login(http)
        await http.post("/api/tasks", json={"title": "after the drop"}, headers=auth)
    await eventually(lambda: _has(transport, 1), within=20)  # a poll would take 60 s


async def _listener_pids(container: Container) -> set[int]:
    async with container.engine.connect() as conn:
        rows = await conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"))
        return set(rows)


async def _listeners_other_than(container: Container, pids: set[int]) -> bool:
    return bool(await _listener_pids(container) - pids)
