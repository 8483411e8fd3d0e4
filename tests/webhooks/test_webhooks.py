"""Outgoing webhooks against a receiver on loopback: each subscribed event posted once as its CloudEvent,
signed with the subscription's secret; retried with backoff until it is taken, in order per task; a
subscription that keeps failing paused and its owner told."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.conftest import ContainerFactory, Register, api_client, settle
from todo.bootstrap import Container
from todo.clock import FrozenClock
from todo.platform.ports import free_port


@dataclass
class Receiver:
    """Answers the next of `answers` to each POST (then 204), or 500 to an event of a task in `failing` as
    many times as it says; keeps what came."""

    port: int
    answers: list[int] = field(default_factory=list)
    failing: dict[str, int] = field(default_factory=dict)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]

    def types(self) -> list[str]:
        return [event["type"].removeprefix("todo.").removesuffix(".v1") for event in self.events()]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver(free_port())

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        hook.received.append((dict(request.headers), body))
        subject = json.loads(body)["subject"]
        if hook.failing.get(subject, 0) > 0:
            hook.failing[subject] -= 1
            return web.Response(status=500)
        return web.Response(status=hook.answers.pop(0) if hook.answers else 204)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", hook.port).start()
    yield hook
    await runner.cleanup()


async def subscribe(
    client: httpx.AsyncClient, auth: dict[str, str], url: str, *events: str
) -> dict[str, Any]:
    made = await client.post("/api/webhooks", json={"url": url, "events": list(events)}, headers=auth)
    assert made.status_code == 201, made.text
    hook: dict[str, Any] = made.json()
    return hook


async def retry_until_quiet(container: Container, clock: FrozenClock, rounds: int = 12) -> None:
    """Move the clock past each backoff in turn, doing what comes due."""
    for _ in range(rounds):
        await settle(container)
        clock.advance(timedelta(minutes=10))


async def test_each_subscribed_event_is_posted_once_as_its_cloudevent_signed(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container, receiver: Receiver
) -> None:
    hook = await subscribe(client, auth, receiver.url, "task.created", "task.completed")
    assert hook["secret"].startswith("whsec_")
    task = (await client.post("/api/tasks", json={"title": "Pay rent"}, headers=auth)).json()
    await client.patch(
        f"/api/tasks/{task['id']}", json={"title": "Pay the rent"}, headers=auth
    )  # not subscribed
    await client.post(f"/api/tasks/{task['id']}/complete", headers=auth)
    await settle(container)

    assert receiver.types() == ["task.created", "task.completed"]
    for headers, body in receiver.received:
        expected = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Todo-Signature"] == expected
        assert headers["Content-Type"] == "application/cloudevents+json"
    completed = receiver.events()[1]
    said = (completed["specversion"], completed["subject"], completed["data"]["title"])
    assert said == ("1.0", task["id"], "Pay the rent")
    assert completed["data"]["completed"] is True
    listed = (await client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=auth)).json()
    assert [(d["event_type"], d["state"], d["attempts"], d["last_status"]) for d in listed["items"]] == [
        ("task.completed", "sent", 1, 204), ("task.created", "sent", 1, 204)
    ]  # fmt: skip
    assert "secret" not in (await client.get(f"/api/webhooks/{hook['id']}", headers=auth)).json()


async def test_a_receiver_that_fails_three_times_then_takes_it_gets_the_event_once_more_not_twice(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    container: Container,
    clock: FrozenClock,
    receiver: Receiver,
) -> None:
    receiver.answers = [500, 502, 503]
    hook = await subscribe(client, auth, receiver.url, "task.created")
    await client.post("/api/tasks", json={"title": "Pay rent"}, headers=auth)
    await retry_until_quiet(container, clock)

    assert len(receiver.received) == 4
    assert len({body for _, body in receiver.received}) == 1  # the same bytes, signature and event id
    [delivery] = (await client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=auth)).json()["items"]
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == ("sent", 4, 204)
    [listed] = (await client.get("/api/webhooks", headers=auth)).json()
    assert (listed["last_delivery"]["state"], listed["last_delivery"]["attempts"]) == ("sent", 4)
    assert (await client.get(f"/api/webhooks/{hook['id']}", headers=auth)).json()["failures"] == 0


async def test_a_tasks_events_arrive_in_order_even_when_the_first_is_retried(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    container: Container,
    clock: FrozenClock,
    receiver: Receiver,
) -> None:
    await subscribe(client, auth, receiver.url, "task.created", "task.updated", "task.completed")
    task = (await client.post("/api/tasks", json={"title": "Pay rent"}, headers=auth)).json()
    receiver.failing[task["id"]] = 2
    other = (await client.post("/api/tasks", json={"title": "Buy milk"}, headers=auth)).json()
    await client.patch(f"/api/tasks/{task['id']}", json={"priority": 1}, headers=auth)
    await client.post(f"/api/tasks/{task['id']}/complete", headers=auth)
    await retry_until_quiet(container, clock)

    mine = [(e["type"], e["data"]["version"]) for e in receiver.events() if e["subject"] == task["id"]]
    assert mine == [("todo.task.created.v1", 1)] * 3 + [
        ("todo.task.updated.v1", 2),
        ("todo.task.completed.v1", 3),
    ]
    assert [e["subject"] for e in receiver.events()].count(other["id"]) == 1  # not held up by the other task


async def test_a_webhook_that_keeps_failing_is_paused_its_owner_told_and_resumed_by_them(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    container: Container,
    clock: FrozenClock,
    receiver: Receiver,
) -> None:
    receiver.answers = [503] * 5
    hook = await subscribe(client, auth, receiver.url, "task.created")
    await client.post("/api/tasks", json={"title": "Pay rent"}, headers=auth)
    await retry_until_quiet(container, clock)

    assert len(receiver.received) == 5
    paused = (await client.get(f"/api/webhooks/{hook['id']}", headers=auth)).json()
    assert (paused["active"], paused["failures"]) == (False, 5)
    assert paused["paused_reason"] == "paused after 5 failed attempts in a row; the last: answered 503"
    [listed] = (await client.get("/api/webhooks", headers=auth)).json()
    assert (listed["last_delivery"]["state"], listed["last_delivery"]["last_status"]) == ("pending", 503)
    [note] = (await client.get("/api/notifications", headers=auth)).json()["items"]
    assert (note["kind"], note["title"]) == ("webhook_paused", "A webhook was paused")
    assert receiver.url in note["body"]
    await client.post("/api/tasks", json={"title": "While paused"}, headers=auth)  # not queued while paused
    await retry_until_quiet(container, clock)
    assert len(receiver.received) == 5

    resumed = await client.patch(f"/api/webhooks/{hook['id']}", json={"active": True}, headers=auth)
    assert (resumed.json()["active"], resumed.json()["paused_reason"]) == (True, None)
    await retry_until_quiet(container, clock)
    assert [e["data"]["title"] for e in receiver.events()[5:]] == ["Pay rent"]  # what waited, once


async def test_a_shared_projects_events_reach_each_members_webhooks_and_nobody_elses(
    client: httpx.AsyncClient, register: Register, container: Container, receiver: Receiver
) -> None:
    ada, bo, cy = [await register(email=f"{name}@example.com") for name in ("ada", "bo", "cy")]
    home = (await client.post("/api/projects", json={"name": "Home"}, headers=ada)).json()
    share = {"email": "bo@example.com", "role": "viewer"}
    await client.post(f"/api/projects/{home['id']}/members", json=share, headers=ada)
    for person in (bo, cy):
        await subscribe(client, person, receiver.url + ("?bo" if person is bo else "?cy"), "task.created")
    await client.post("/api/tasks", json={"title": "Fix tap", "project_id": home["id"]}, headers=ada)
    await client.post("/api/tasks", json={"title": "Ada's own"}, headers=ada)
    await settle(container)
    assert [e["data"]["title"] for e in receiver.events()] == ["Fix tap"]  # to Bo's webhook, not Cy's


async def test_bad_webhook_input_is_refused_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], make_container: ContainerFactory
) -> None:
    for body, field_name in (
        ({"url": "ftp://example.com/x", "events": ["task.created"]}, "url"),
        ({"url": "https://example.com/x", "events": ["task.renamed"]}, "events"),
        ({"url": "https://example.com/x", "events": []}, "events"),
        ({"url": "https://example.com/x", "events": ["task.created"], "secret": "short"}, "secret"),
        ({"url": "https://example.com/x"}, "events"),
    ):
        refused = await client.post("/api/webhooks", json=body, headers=auth)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["fields"][0]["field"] == field_name
    assert "task.completed" in (await client.get("/api/webhooks/events", headers=auth)).json()

    guarded = await make_container(channel_allowed_networks=[])  # as the cluster's values have it
    async with api_client(guarded) as inside:
        token = await inside.post("/api/auth/login", json={"email": "nobody@example.com", "password": "x"})
        assert token.status_code == 401
        signed = await inside.post(
            "/api/auth/register", json={"email": "in@example.com", "password": "password123"}
        )
        headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        sidecar = {"url": "http://127.0.0.1:3500/v1.0/publish", "events": ["task.created"]}
        refused = await inside.post("/api/webhooks", json=sidecar, headers=headers)
        assert (refused.status_code, refused.json()["error"]["fields"][0]["field"]) == (422, "url")
        assert "loopback" in refused.json()["error"]["fields"][0]["reason"]
    assert (await client.get("/api/webhooks", headers=auth)).json() == []
