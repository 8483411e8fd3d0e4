"""Tasks through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from tests.conftest import START, Register
from todo.bootstrap import Container
from todo.clock import FrozenClock


async def create(client: httpx.AsyncClient, auth: dict[str, str], **body: object) -> dict[str, object]:
    response = await client.post("/api/tasks", json={"title": "a task", **body}, headers=auth)
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


async def test_create_read_and_defaults(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    task = await create(
        client, auth, title="  Complete report  ", due_date="2026-06-16T10:00:00Z", tags=["Work"]
    )
    assert task["title"] == "Complete report"
    assert task["priority"] == 2
    assert task["due_date"] == "2026-06-16T10:00:00Z"
    assert task["due_state"] == "due_soon"
    assert task["tags"] == ["work"]
    assert (task["completed"], task["notified"], task["version"]) == (False, False, 1)
    fetched = (await client.get(f"/api/tasks/{task['id']}", headers=auth)).json()
    assert fetched == task


async def test_naive_due_date_is_read_in_the_users_timezone(
    client: httpx.AsyncClient, register: Register
) -> None:
    auth = await register(timezone="America/New_York")
    task = await create(client, auth, due_date="2026-06-16T09:00:00")
    assert task["due_date"] == "2026-06-16T13:00:00Z"  # 09:00 EDT


async def test_complete_uncomplete_and_version(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    task = await create(client, auth)
    clock.advance(timedelta(minutes=5))
    done = (await client.post(f"/api/tasks/{task['id']}/complete", headers=auth)).json()
    assert done["completed"] is True
    assert done["completed_at"] == (START + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert (done["due_state"], done["version"]) == ("done", 2)
    again = (await client.post(f"/api/tasks/{task['id']}/complete", headers=auth)).json()
    assert again["version"] == 2  # completing twice changes nothing
    undone = (await client.post(f"/api/tasks/{task['id']}/uncomplete", headers=auth)).json()
    assert (undone["completed"], undone["completed_at"], undone["version"]) == (False, None, 3)


async def test_put_replaces_and_patch_changes_only_what_is_sent(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    task = await create(client, auth, description="d", due_date="2026-07-01T10:00:00Z", tags=["a"])
    put = await client.put(f"/api/tasks/{task['id']}", json={"title": "new", "priority": 1}, headers=auth)
    assert put.status_code == 200
    body = put.json()
    assert (body["title"], body["priority"], body["description"], body["due_date"], body["tags"]) == (
        "new", 1, None, None, [],
    )  # fmt: skip
    patched = (
        await client.patch(f"/api/tasks/{task['id']}", json={"description": "only this"}, headers=auth)
    ).json()
    assert (patched["title"], patched["priority"], patched["description"]) == ("new", 1, "only this")
    cleared = (
        await client.patch(f"/api/tasks/{task['id']}", json={"description": None}, headers=auth)
    ).json()
    assert cleared["description"] is None
    assert cleared["version"] == 4


async def test_patch_with_stale_version_conflicts(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    task = await create(client, auth)
    await client.patch(f"/api/tasks/{task['id']}", json={"title": "first"}, headers=auth)
    stale = await client.patch(
        f"/api/tasks/{task['id']}", json={"title": "second", "version": 1}, headers=auth
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    assert (await client.get(f"/api/tasks/{task['id']}", headers=auth)).json()["title"] == "first"


async def test_patch_without_changes_writes_no_event(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    task = await create(client, auth, title="same")
    response = await client.patch(f"/api/tasks/{task['id']}", json={"title": "same"}, headers=auth)
    assert response.json()["version"] == 1
    history = (await client.get(f"/api/tasks/{task['id']}/events", headers=auth)).json()
    assert [e["type"] for e in history] == ["todo.task.created.v1"]


async def test_delete_then_404_and_history_survives(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    task = await create(client, auth)
    assert (await client.delete(f"/api/tasks/{task['id']}", headers=auth)).status_code == 204
    missing = await client.get(f"/api/tasks/{task['id']}", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    history = (await client.get(f"/api/tasks/{task['id']}/events", headers=auth)).json()
    assert [e["event_type"] for e in history] == ["created", "deleted"]


async def test_history_lists_every_change_in_order(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container
) -> None:
    task = await create(client, auth)
    await client.patch(f"/api/tasks/{task['id']}", json={"priority": 1}, headers=auth)
    await client.post(f"/api/tasks/{task['id']}/complete", headers=auth)
    await client.post(f"/api/tasks/{task['id']}/uncomplete", headers=auth)
    history = (await client.get(f"/api/tasks/{task['id']}/events", headers=auth)).json()
    assert [(e["topic"], e["event_type"]) for e in history] == [
        ("task-created", "created"),
        ("task-updated", "updated"),
        ("task-completed", "completed"),
        ("task-updated", "uncompleted"),
    ]
    assert [e["data"]["version"] for e in history] == [1, 2, 3, 4]
    assert all(e["data"]["user_id"] for e in history)


async def test_list_filters_sorting_and_paging(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    async def make(**body: object) -> dict[str, object]:
        clock.advance(timedelta(seconds=1))  # distinct creation times, so creation order is defined
        return await create(client, auth, **body)

    overdue = await make(title="pay rent", due_date="2026-06-14T12:00:00Z", priority=1, tags=["home"])
    soon = await make(title="call Bob", due_date="2026-06-15T20:00:00Z", priority=3)
    later = await make(title="Plan trip", description="rent a car", due_date="2026-07-01T09:00:00Z")
    undated = await make(title="read a book", tags=["home", "fun"])
    done = await make(title="done already")
    await client.post(f"/api/tasks/{done['id']}/complete", headers=auth)

    async def ids(query: str) -> list[object]:
        response = await client.get(f"/api/tasks?{query}", headers=auth)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]

    assert await ids("due_state=overdue") == [overdue["id"]]
    assert await ids("due_state=due_soon") == [soon["id"]]
    assert await ids("due_state=upcoming") == [later["id"]]
    assert await ids("due_state=none") == [undated["id"]]
    assert await ids("due_state=done") == [done["id"]]
    assert await ids("status=completed") == [done["id"]]
    assert len(await ids("status=open")) == 4
    assert await ids("priority=1") == [overdue["id"]]
    assert set(await ids("tag=HOME")) == {overdue["id"], undated["id"]}
    assert set(await ids("q=RENT")) == {overdue["id"], later["id"]}  # title or description
    assert await ids("q=100%25") == []  # LIKE wildcards are escaped
    assert await ids("due_after=2026-06-15T00:00:00Z&due_before=2026-06-16T00:00:00Z") == [soon["id"]]
    assert await ids("sort=due_date&status=open") == [overdue["id"], soon["id"], later["id"], undated["id"]]
    assert (await ids("sort=priority&due_state=overdue")) == [overdue["id"]]
    clock.advance(timedelta(seconds=1))
    await client.post(f"/api/tasks/{soon['id']}/complete", headers=auth)
    assert await ids("sort=-completed_at&status=completed") == [soon["id"], done["id"]]  # latest first
    await client.post(f"/api/tasks/{soon['id']}/uncomplete", headers=auth)

    page = (await client.get("/api/tasks?page=2&page_size=2&sort=created_at", headers=auth)).json()
    assert (page["total"], page["page"], page["page_size"]) == (5, 2, 2)
    assert [t["id"] for t in page["items"]] == [later["id"], undated["id"]]
    # past the last page no row carries the total: it is counted on its own
    beyond = (await client.get("/api/tasks?page=4&page_size=2&tag=home", headers=auth)).json()
    assert (beyond["items"], beyond["total"]) == ([], 2)
    listed = (await client.get("/api/tasks?tag=home&sort=created_at", headers=auth)).json()["items"]
    assert [t["tags"] for t in listed] == [["home"], ["fun", "home"]]  # each task its own, in order


async def test_due_state_moves_with_the_clock(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    task = await create(client, auth, due_date="2026-06-17T12:00:00Z")
    assert task["due_state"] == "upcoming"
    clock.advance(timedelta(days=1))
    assert (await client.get(f"/api/tasks/{task['id']}", headers=auth)).json()["due_state"] == "due_soon"
    clock.advance(timedelta(days=1))
    assert (await client.get(f"/api/tasks/{task['id']}", headers=auth)).json()["due_state"] == "overdue"


async def test_redating_a_task_resets_notified(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container
) -> None:
    from todo.tasks.models import Task

    task = await create(client, auth, due_date="2026-06-16T12:00:00Z")
    async with container.sessions() as session, session.begin():
        row = await session.get(Task, uuid.UUID(str(task["id"])))
        assert row is not None
        row.notified = True
    moved = await client.patch(
        f"/api/tasks/{task['id']}", json={"due_date": "2026-06-18T12:00:00Z"}, headers=auth
    )
    assert moved.json()["notified"] is False


async def test_changing_tags_keeps_the_ones_still_wanted(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    task = await create(client, auth, tags=["home", "errand"])
    changed = await client.patch(f"/api/tasks/{task['id']}", json={"tags": ["home", "urgent"]}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["tags"] == ["home", "urgent"]
    fetched = (await client.get(f"/api/tasks/{task['id']}", headers=auth)).json()
    assert fetched["tags"] == ["home", "urgent"]
    assert [t["id"] for t in (await client.get("/api/tasks?tag=errand", headers=auth)).json()["items"]] == []
