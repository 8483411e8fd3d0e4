"""The calls daprd makes to the notifications service, answered in front of the app (`DaprDeliveries`):
per-entry statuses for a bulk delivery, DROP for what no retry can fix, the body limit, and everything
else passed through. The sidecar's side of the contract is proven in tests/dapr."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import ContainerFactory
from tests.events.test_consumers import projection, task_event
from todo.analytics.consumer import analytics_consumer
from todo.events.consumers import ConsumerRegistry
from todo.events.dapr import DaprDeliveries


@pytest.fixture
async def sidecar(make_container: ContainerFactory) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    """A client standing where the sidecar stands, and the sessions the deliveries commit to."""
    container = await make_container(start=False)
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    deliveries = DaprDeliveries(app, registry=ConsumerRegistry([analytics_consumer]),
                                sessions=container.sessions, max_body_bytes=64 * 1024)  # fmt: skip
    transport = httpx.ASGITransport(app=deliveries)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        yield http, container.sessions


async def test_a_bulk_delivery_is_answered_entry_by_entry(
    sidecar: tuple[httpx.AsyncClient, object],
) -> None:
    http, sessions = sidecar
    first = task_event(1, type_="todo.task.created.v1", id="7b0a3a52-0000-4000-8000-000000000001")
    second = task_event(1, type_="todo.task.created.v1", id="7b0a3a52-0000-4000-8000-000000000002")
    entries = [
        {"entryId": "a", "event": first.to_json(), "metadata": {"__timestamp": "1781000000000"}},
        {"entryId": "b", "event": {"id": "x", "data": "not an object"}},
        {"entryId": "c", "event": second.to_json()},
    ]
    response = await http.post("/events/task-created", json={"entries": entries})
    assert response.status_code == 200
    assert response.json() == {
        "statuses": [
            {"entryId": "a", "status": "SUCCESS"},
            {"entryId": "b", "status": "DROP"},
            {"entryId": "c", "status": "SUCCESS"},
        ]
    }
    projected = {str(row.task_id) for row in await projection(sessions)}
    assert projected == {first.data["id"], second.data["id"]}


async def test_a_single_delivery_and_a_body_that_is_not_json(
    sidecar: tuple[httpx.AsyncClient, object],
) -> None:
    http, sessions = sidecar
    event = task_event(1, type_="todo.task.created.v1")
    single = await http.post("/events/task-created", json=event.to_json())
    assert single.json() == {"status": "SUCCESS"}
    garbled = await http.post("/events/task-created", content=b"{not json")
    assert garbled.json() == {"status": "DROP"}  # no retry can fix it: to the dead-letter topic
    assert [str(row.task_id) for row in await projection(sessions)] == [event.data["id"]]


async def test_a_delivery_over_the_body_limit_is_refused_and_changes_nothing(
    sidecar: tuple[httpx.AsyncClient, object],
) -> None:
    http, sessions = sidecar
    event = task_event(1, type_="todo.task.created.v1", title="x" * 70_000)
    response = await http.post("/events/task-created", content=json.dumps(event.to_json()).encode())
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert await projection(sessions) == []


async def test_everything_else_goes_on_to_the_app(sidecar: tuple[httpx.AsyncClient, object]) -> None:
    http, _ = sidecar
    assert (await http.get("/dapr/subscribe")).json() == []  # declared in deploy/dapr/subscriptions.yaml
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    assert (await http.get("/events/task-created")).status_code == 404  # only a POST is a delivery
