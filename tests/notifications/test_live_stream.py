"""The inbox's Server-Sent Events stream, over a real HTTP server (uvicorn on loopback)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from tests.conftest import announce, eventually
from todo import wakeups
from todo.apps import create_api_app
from todo.bootstrap import Container
from todo.db import utcnow
from todo.events.envelope import TASK_DUE
from todo.notifications.api import routes
from todo.notifications.models import Notification
from todo.platform.ports import free_port


async def events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, Any]]:
    """(event name, decoded data) for each event of an SSE stream; comments (keep-alives) skipped."""
    name, data = "message", ""
    async for line in lines:
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data = line.removeprefix("data:").strip()
        elif line == "" and data:
            yield name, json.loads(data)
            name, data = "message", ""


@asynccontextmanager
async def serving(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    """The API app under uvicorn on loopback, and a client of it."""
    port = free_port()
    config = uvicorn.Config(create_api_app(container, manage_lifecycle=False), host="127.0.0.1", port=port,
                            log_config=None, lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    running = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: _true(server.started))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            yield http
    finally:
        server.should_exit = True
        await running


async def sign_up(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    registered = await http.post("/api/auth/register", json={"email": email, "password": "password123"})
    return {"Authorization": f"Bearer {registered.json()['access_token']}"}


async def test_a_new_notification_arrives_on_the_open_stream(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "STREAM_CHECK_SECONDS", 0.1)  # notice the client leaving sooner
    async with serving(container) as http:
        auth = await sign_up(http, "live@example.com")
        task = (await http.post("/api/tasks", json={"title": "Call mum"}, headers=auth)).json()
        async with http.stream("GET", "/api/notifications/stream", headers=auth) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            received = events(stream.aiter_lines())
            assert await anext(received) == ("unread", {"unread": 0})
            await announce(container, TASK_DUE, task["id"])  # the reminder clock's event
            name, note = await asyncio.wait_for(anext(received), timeout=20)
            assert (name, note["title"], note["task_id"]) == ("notification", "Due now: Call mum", task["id"])
            assert await anext(received) == ("unread", {"unread": 1})
    await eventually(lambda: _true(container.live_feed.open_streams == 0))  # the closed stream let go


async def test_the_stream_passes_on_notifications_written_out_of_order_and_in_bursts(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two notifications pods and several Kafka partitions write a user's notifications in no order of
    their times, a thousand reminders due together arrive in one wake-up, and a wake-up that finds nothing
    new sends nothing (the next events are the burst's, not a repeated count)."""
    monkeypatch.setattr(routes, "STREAM_CHECK_SECONDS", 0.1)  # notice the client leaving sooner
    async with serving(container) as http:
        auth = await sign_up(http, "burst@example.com")
        user_id = (await http.get("/api/me", headers=auth)).json()["id"]
        async with http.stream("GET", "/api/notifications/stream", headers=auth) as stream:
            received = events(stream.aiter_lines())
            assert await anext(received) == ("unread", {"unread": 0})

            await write_notifications(container, user_id, ["first"], ago=timedelta(0))
            titles, counts = await streamed(received, notifications=1, unread=1)
            assert (titles, set(counts)) == (["first"], {1})
            # written two seconds earlier than "first", committed after it
            await write_notifications(container, user_id, ["slower writer"], ago=timedelta(seconds=2))
            titles, counts = await streamed(received, notifications=1, unread=2)
            assert (titles, set(counts)) == (["slower writer"], {2})
            container.wakeups.fire(wakeups.INBOX, user_id)  # as PostgreSQL's echo of a commit: nothing new
            burst = [f"burst {n}" for n in range(250)]  # more than one page of the stream's reads
            await write_notifications(container, user_id, burst, ago=timedelta(0))
            titles, counts = await streamed(received, notifications=len(burst), unread=252)
            assert sorted(titles) == sorted(burst)
            assert 2 not in counts  # the empty wake-up sent no count


async def test_a_client_that_reconnects_gets_what_came_while_it_was_away(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser reconnects by itself (an API pod replaced, a network blip) sending the id of the last
    notification it had: the stream sends at once what was written since, and nothing it had before. An id
    that is not one of the user's starts the stream afresh."""
    monkeypatch.setattr(routes, "STREAM_CHECK_SECONDS", 0.1)  # notice the client leaving sooner
    async with serving(container) as http:
        auth = await sign_up(http, "away@example.com")
        user_id = (await http.get("/api/me", headers=auth)).json()["id"]
        await write_notifications(container, user_id, ["long ago"], ago=timedelta(minutes=5))
        async with http.stream("GET", "/api/notifications/stream", headers=auth) as stream:
            received = events(stream.aiter_lines())
            assert await anext(received) == ("unread", {"unread": 1})
            await write_notifications(container, user_id, ["seen"], ago=timedelta(0))
            assert (await streamed(received, notifications=1, unread=2))[0] == ["seen"]
        seen = (await http.get("/api/notifications", headers=auth)).json()["items"][0]
        assert seen["title"] == "seen"

        await write_notifications(container, user_id, ["while away", "and this"], ago=timedelta(0))
        resuming = auth | {"Last-Event-ID": seen["id"]}
        async with http.stream("GET", "/api/notifications/stream", headers=resuming) as stream:
            titles, counts = await streamed(events(stream.aiter_lines()), notifications=2, unread=4)
            assert (sorted(titles), counts[0]) == (["and this", "while away"], 4)

        afresh = auth | {"Last-Event-ID": str(uuid.uuid4())}
        async with http.stream("GET", "/api/notifications/stream", headers=afresh) as stream:
            received = events(stream.aiter_lines())
            assert await anext(received) == ("unread", {"unread": 4})
            await write_notifications(container, user_id, ["new"], ago=timedelta(0))
            assert (await streamed(received, notifications=1, unread=5))[0] == ["new"]


async def write_notifications(container: Container, user_id: str, titles: list[str], ago: timedelta) -> None:
    """Notifications as the inbox consumer writes them, in one transaction, recorded `ago`."""
    at = utcnow() - ago
    async with container.sessions() as session, session.begin():
        for title in titles:
            session.add(Notification(user_id=uuid.UUID(user_id), kind="due", title=title, body="",
                                     event_id=str(uuid.uuid4()), created_at=at, recorded_at=at))  # fmt: skip
        wakeups.after_commit(session, wakeups.INBOX, user_id)


async def streamed(
    received: AsyncIterator[tuple[str, Any]], *, notifications: int, unread: int
) -> tuple[list[str], list[int]]:
    """The titles of the notifications streamed and the unread counts sent, until `notifications` have
    come and then the count `unread` (a count read just after a commit may also come before them)."""
    titles: list[str] = []
    counts: list[int] = []
    while len(titles) < notifications or not counts or counts[-1] != unread:
        name, data = await asyncio.wait_for(anext(received), timeout=20)
        if name == "notification":
            titles.append(data["title"])
        else:
            counts.append(data["unread"])
    return titles, counts


async def _true(value: bool) -> bool:
    return value
