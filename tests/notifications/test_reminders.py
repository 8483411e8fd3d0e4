"""Reminders: planned from the task events, sent at their time by the clock, moved or cancelled by
changes, snoozed, and sent once (late) after downtime. The clock is frozen and moved by the tests."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from tests.conftest import START, ContainerFactory, Register, api_client, iso_z, settle, sign_up
from todo.bootstrap import Container
from todo.clock import FrozenClock
from todo.events.consumers import deliver, deliver_batch
from todo.events.envelope import CloudEvent
from todo.events.transport import DeliveryStatus
from todo.notifications.api import service

DUE = START + timedelta(days=2)  # 2026-06-17 12:00 UTC


async def new_task(client: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"title": "Pay rent", "due_date": DUE.isoformat(), **fields}
    response = await client.post("/api/tasks", json=body, headers=auth)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


async def reminders(
    client: httpx.AsyncClient, auth: dict[str, str], task_id: str
) -> list[tuple[str, str, str]]:
    response = await client.get(f"/api/tasks/{task_id}/reminders", headers=auth)
    assert response.status_code == 200, response.text
    return [(r["kind"], r["fire_at"], r["state"]) for r in response.json()]


async def inbox(client: httpx.AsyncClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await client.get("/api/notifications", headers=auth)).json()["items"]
    return items


async def test_a_task_is_reminded_a_day_before_and_at_its_due_time(
    client: httpx.AsyncClient, register: Register, container: Container, clock: FrozenClock
) -> None:
    auth = await register(timezone="Europe/Berlin")
    task = await new_task(client, auth)
    await settle(container)
    day_before = DUE - timedelta(days=1)
    assert await reminders(client, auth, task["id"]) == [
        ("due_soon", iso_z(day_before), "pending"),
        ("due", iso_z(DUE), "pending"),
    ]
    clock.set(day_before - timedelta(seconds=1))
    await settle(container)
    assert await inbox(client, auth) == []  # not a second early

    clock.set(day_before)
    await settle(container)
    [soon] = await inbox(client, auth)
    assert (soon["kind"], soon["title"]) == ("due_soon", "Due soon: Pay rent")
    assert soon["body"] == "Pay rent is due tomorrow at 14:00 (Europe/Berlin)."
    shown = (await client.get(f"/api/tasks/{task['id']}", headers=auth)).json()
    assert (shown["due_state"], shown["notified"]) == ("due_soon", False)  # the spec's "due soon"

    clock.set(DUE)
    await settle(container)
    due, _ = await inbox(client, auth)
    assert (due["kind"], due["title"], due["body"]) == (
        "due",
        "Due now: Pay rent",
        "Pay rent is due today at 14:00 (Europe/Berlin).",
    )
    clock.advance(timedelta(minutes=1))
    shown = (await client.get(f"/api/tasks/{task['id']}", headers=auth)).json()
    assert (shown["due_state"], shown["notified"]) == ("overdue", True)  # the spec's "overdue"
    assert [r[2] for r in await reminders(client, auth, task["id"])] == ["sent", "sent"]
    await settle(container)
    assert len(await inbox(client, auth)) == 2  # nothing is sent twice


async def test_own_leads_per_task_and_per_user(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container
) -> None:
    own = await new_task(client, auth, reminder_minutes=[10, 60, 0, 10])
    me = await client.patch("/api/me", json={"reminder_minutes": [120]}, headers=auth)
    assert me.json()["reminder_minutes"] == [120]
    default = await new_task(client, auth, title="default")
    await settle(container)
    assert own["reminder_minutes"] == [60, 10, 0]  # distinct, earliest first
    assert [r[:2] for r in await reminders(client, auth, own["id"])] == [
        ("due_soon", iso_z(DUE - timedelta(hours=1))),
        ("due_soon", iso_z(DUE - timedelta(minutes=10))),
        ("due", iso_z(DUE)),
    ]
    assert [r[:2] for r in await reminders(client, auth, default["id"])] == [
        ("due_soon", iso_z(DUE - timedelta(hours=2)))
    ]


async def test_changes_move_or_cancel_pending_reminders(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container
) -> None:
    task = await new_task(client, auth)
    later = DUE + timedelta(days=1)
    await client.patch(f"/api/tasks/{task['id']}", json={"title": "Pay the rent"}, headers=auth)
    await settle(container)
    assert [r[2] for r in await reminders(client, auth, task["id"])] == [
        "pending",
        "pending",
    ]  # kept, not redone

    await client.patch(f"/api/tasks/{task['id']}", json={"due_date": later.isoformat()}, headers=auth)
    await settle(container)
    assert await reminders(client, auth, task["id"]) == [
        ("due_soon", iso_z(DUE - timedelta(days=1)), "cancelled"),
        ("due", iso_z(DUE), "cancelled"),
        ("due_soon", iso_z(later - timedelta(days=1)), "pending"),  # fires when the old due one would have
        ("due", iso_z(later), "pending"),
    ]
    await client.post(f"/api/tasks/{task['id']}/complete", headers=auth)
    await settle(container)
    assert {r[2] for r in await reminders(client, auth, task["id"])} == {"cancelled"}

    gone = await new_task(client, auth, title="gone")
    await settle(container)
    await client.delete(f"/api/tasks/{gone['id']}", headers=auth)
    await settle(container)
    async with container.sessions() as session:  # the task is gone, so ask the store, not the API
        states = {r.state for r in await service.reminders_of(session, task_id=uuid.UUID(gone["id"]))}
    assert states == {"cancelled"}


async def test_stale_events_change_nothing(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container
) -> None:
    task = await new_task(client, auth)
    await client.patch(f"/api/tasks/{task['id']}", json={"due_date": (DUE + timedelta(days=3)).isoformat()},
                       headers=auth)  # fmt: skip
    await settle(container)
    before = await reminders(client, auth, task["id"])
    # the broker delivers version 1 again, late, under a new event id
    me = (await client.get("/api/me", headers=auth)).json()
    stale = CloudEvent(id="late-copy", source="test", type="todo.task.created.v1", subject=task["id"],
                       time=task["created_at"], topic="task-created",
                       data={**task, "user_id": me["id"]})  # fmt: skip
    [consumer] = [c for c in container.consumers.all() if c.name == "notifications-reminders"]
    assert await deliver(consumer, stale, container.sessions) is DeliveryStatus.SUCCESS
    assert await reminders(client, auth, task["id"]) == before


async def test_snooze_reminds_again(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container, clock: FrozenClock
) -> None:
    task = await new_task(client, auth, reminder_minutes=[])
    snoozed = await client.post(f"/api/tasks/{task['id']}/snooze", json={"minutes": 10}, headers=auth)
    assert snoozed.status_code == 201, snoozed.text
    assert (snoozed.json()["kind"], snoozed.json()["fire_at"]) == (
        "snooze",
        iso_z(START + timedelta(minutes=10)),
    )
    await settle(container)
    clock.advance(timedelta(minutes=10))
    await settle(container)
    [note] = await inbox(client, auth)
    assert (note["kind"], note["title"]) == ("due_soon", "Due soon: Pay rent")
    bad = await client.post(
        f"/api/tasks/{task['id']}/snooze", json={"minutes": 5, "until": iso_z(DUE)}, headers=auth
    )
    assert bad.status_code == 422
    past = await client.post(f"/api/tasks/{task['id']}/snooze", json={"until": iso_z(START)}, headers=auth)
    assert past.json()["error"]["fields"] == [{"field": "until", "reason": "must be in the future"}]


async def test_bad_leads_are_refused_with_the_field(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post("/api/tasks", json={"title": "x", "reminder_minutes": [-5]}, headers=auth)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "reminder_minutes.0"


async def test_missed_reminders_are_sent_once_after_downtime_marked_late(
    make_container: ContainerFactory, clock: FrozenClock
) -> None:
    first = await make_container()
    async with api_client(first) as client:
        auth = await sign_up(client)
        task = await new_task(client, auth)
        await settle(first)
    await first.stop()  # the service is down while both reminders come due
    clock.set(DUE + timedelta(hours=3))
    second = await make_container()
    async with api_client(second) as client:
        await settle(second)
        notes = await inbox(client, auth)
        assert sorted(n["kind"] for n in notes) == ["due", "due_soon"]
        assert all("This reminder is late" in n["body"] for n in notes)
        assert all(r[2] == "sent" for r in await reminders(client, auth, task["id"]))
        late = (await client.get(f"/api/tasks/{task['id']}/reminders", headers=auth)).json()
        assert [r["late"] for r in late] == [True, True]
        await settle(second)
        assert len(await inbox(client, auth)) == 2


async def test_a_batch_replans_each_task_from_its_newest_event(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container
) -> None:
    """A delivery that carries several changes of one task, out of order, plans what its newest says."""
    task = await new_task(client, auth)
    await settle(container)
    me = (await client.get("/api/me", headers=auth)).json()

    def moved(version: int, due: Any) -> CloudEvent:
        data = {**task, "user_id": me["id"], "version": version, "due_date": due.isoformat()}
        kind = "todo.task.updated.v1"
        return CloudEvent(id=str(uuid.uuid4()), source="test", type=kind, subject=task["id"],
                          time=task["created_at"], topic="task-updated", data=data)  # fmt: skip

    later, latest = DUE + timedelta(days=1), DUE + timedelta(days=2)
    [consumer] = [c for c in container.consumers.all() if c.name == "notifications-reminders"]
    batch = [moved(task["version"] + 2, latest), moved(task["version"] + 1, later)]
    assert await deliver_batch(consumer, batch, container.sessions) == [DeliveryStatus.SUCCESS] * 2
    pending = [r for r in await reminders(client, auth, task["id"]) if r[2] == "pending"]
    assert pending == [
        ("due_soon", iso_z(latest - timedelta(days=1)), "pending"),
        ("due", iso_z(latest), "pending"),
    ]
