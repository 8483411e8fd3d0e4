"""The in-app inbox: due events become notifications once, in the reader's time zone; read marks."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from tests.conftest import Register, announce, eventually
from todo.bootstrap import Container
from todo.events.envelope import TASK_DUE, TASK_DUE_SOON
from todo.events.models import TaskEvent


async def inbox(client: httpx.AsyncClient, auth: dict[str, str], query: str = "") -> dict[str, object]:
    response = await client.get(f"/api/notifications{query}", headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def wait_for_inbox(client: httpx.AsyncClient, auth: dict[str, str], total: int) -> None:
    async def arrived() -> bool:
        return (await inbox(client, auth))["total"] == total

    await eventually(arrived)


async def test_a_due_event_lands_in_the_inbox_once(
    client: httpx.AsyncClient, register: Register, container: Container
) -> None:
    auth = await register(timezone="Europe/Berlin")
    task = (await client.post("/api/tasks", json={"title": "Pay rent", "due_date": "2026-06-15T16:00:00Z"},
                              headers=auth)).json()  # fmt: skip
    await announce(container, TASK_DUE_SOON, task["id"])

    await wait_for_inbox(client, auth, 1)
    [note] = (await inbox(client, auth))["items"]  # type: ignore[misc]
    assert note["kind"] == "due_soon"
    assert note["title"] == "Due soon: Pay rent"
    assert note["body"] == "Pay rent is due today at 18:00 (Europe/Berlin)."  # 16:00 UTC in summer Berlin
    assert note["task_id"] == task["id"]
    # a redelivery (the relay crashed before marking) leaves no second copy
    async with container.sessions() as session, session.begin():
        await session.execute(update(TaskEvent).values(published_at=None))
    container.relay.wake()

    async def redelivered() -> bool:
        async with container.sessions() as session:
            pending = await session.scalar(
                TaskEvent.__table__.select()
                .where(TaskEvent.published_at.is_(None))
                .with_only_columns(TaskEvent.seq)
            )
        return pending is None

    await eventually(redelivered)
    assert (await inbox(client, auth))["total"] == 1


async def test_unread_count_and_marking_read(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container
) -> None:
    ids = []
    for title in ("one", "two", "three"):
        task = (await client.post("/api/tasks", json={"title": title, "due_date": "2026-06-15T13:00:00Z"},
                                  headers=auth)).json()  # fmt: skip
        await announce(container, TASK_DUE, task["id"])
        ids.append(task["id"])

    async def all_arrived() -> bool:
        return (await client.get("/api/notifications/unread-count", headers=auth)).json() == {"unread": 3}

    await eventually(all_arrived)
    first = (await inbox(client, auth))["items"][0]  # type: ignore[index]
    read = await client.post(f"/api/notifications/{first['id']}/read", headers=auth)
    assert read.json()["read_at"] is not None
    assert (await client.get("/api/notifications/unread-count", headers=auth)).json() == {"unread": 2}
    assert (await inbox(client, auth, "?unread=true"))["total"] == 2
    assert (await client.post("/api/notifications/read-all", headers=auth)).json() == {"unread": 0}
    assert (await inbox(client, auth, "?unread=true"))["total"] == 0
    assert (await inbox(client, auth))["total"] == 3


async def test_someone_elses_notification_is_404(
    client: httpx.AsyncClient, register: Register, container: Container
) -> None:
    alice, mallory = await register(), await register()
    task = (await client.post("/api/tasks", json={"title": "mine", "due_date": "2026-06-15T13:00:00Z"},
                              headers=alice)).json()  # fmt: skip
    await announce(container, TASK_DUE, task["id"])

    await wait_for_inbox(client, alice, 1)
    note = (await inbox(client, alice))["items"][0]  # type: ignore[index]
    assert (await client.post(f"/api/notifications/{note['id']}/read", headers=mallory)).status_code == 404
    assert (await inbox(client, mallory))["total"] == 0
    assert (await inbox(client, alice, "?unread=true"))["total"] == 1
