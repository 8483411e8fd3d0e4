"""The inbox's Server-Sent Events stream, over a real HTTP server (uvicorn on loopback)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from tests.conftest import announce, eventually
from todo.apps import create_api_app
from todo.bootstrap import Container
from todo.events.envelope import TASK_DUE
from todo.notifications import routes
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


async def test_a_new_notification_arrives_on_the_open_stream(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "STREAM_CHECK_SECONDS", 0.1)  # notice the client leaving sooner
    port = free_port()
    config = uvicorn.Config(create_api_app(container, manage_lifecycle=False), host="127.0.0.1", port=port,
                            log_config=None, lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: _true(server.started))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            registered = await http.post(
                "/api/auth/register", json={"email": "live@example.com", "password": "password123"}
            )
            auth = {"Authorization": f"Bearer {registered.json()['access_token']}"}
            task = (await http.post("/api/tasks", json={"title": "Call mum"}, headers=auth)).json()
            async with http.stream("GET", "/api/notifications/stream", headers=auth) as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                received = events(stream.aiter_lines())
                assert await anext(received) == ("unread", {"unread": 0})
                await announce(container, TASK_DUE, task["id"])  # the reminder clock's event
                name, note = await asyncio.wait_for(anext(received), timeout=20)
                assert (name, note["title"], note["task_id"]) == (
                    "notification",
                    "Due now: Call mum",
                    task["id"],
                )
                assert await anext(received) == ("unread", {"unread": 1})
        await eventually(lambda: _true(container.live_feed.open_streams == 0))  # the closed stream let go
    finally:
        server.should_exit = True
        await serving


async def _true(value: bool) -> bool:
    return value
