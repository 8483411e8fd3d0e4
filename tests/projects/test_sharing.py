"""Sharing a project: its members see it and, unless viewers, change it; everyone else is told 404 for
every id in it; a removed member loses access at once; its reminders reach each member once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from tests.conftest import Register, announce, settle
from tests.projects.test_projects import me
from todo.bootstrap import Container
from todo.events.envelope import TASK_DUE
from todo.events.models import TaskEvent
from todo.notifications.models import Notification


@dataclass
class Person:
    email: str
    auth: dict[str, str]
    id: str


@pytest.fixture
async def people(client: httpx.AsyncClient, register: Register) -> dict[str, Person]:
    """Ada owns a project she shares; Bo and Cy are the other accounts."""
    made = {}
    for name, zone in (("ada", "Europe/Berlin"), ("bo", "America/New_York"), ("cy", "UTC")):
        auth = await register(email=f"{name}@example.com", timezone=zone)
        made[name] = Person(f"{name}@example.com", auth, await me(client, auth))
    return made


async def share(
    client: httpx.AsyncClient, owner: Person, project_id: str, member: Person, role: str
) -> httpx.Response:
    body = {"email": member.email.upper(), "role": role}  # an email is found whatever its case
    return await client.post(f"/api/projects/{project_id}/members", json=body, headers=owner.auth)


async def home_with_a_task(client: httpx.AsyncClient, owner: Person) -> tuple[dict[str, Any], dict[str, Any]]:
    """`owner`'s new project "Home" with one task in it, "Fix tap"."""
    home = (await client.post("/api/projects", json={"name": "Home"}, headers=owner.auth)).json()
    body = {"title": "Fix tap", "project_id": home["id"]}
    task = (await client.post("/api/tasks", json=body, headers=owner.auth)).json()
    return home, task


async def test_a_shared_project_is_seen_by_its_members_and_written_by_its_editors(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    home, task = await home_with_a_task(client, ada)
    added = await share(client, ada, home["id"], bo, "viewer")
    assert added.status_code == 201, added.text
    assert (added.json()["user_id"], added.json()["role"]) == (bo.id, "viewer")

    mine = (await client.get("/api/projects", headers=bo.auth)).json()
    assert [(p["name"], p["role"], p["members"]) for p in mine] == [
        ("Inbox", "owner", 1),
        ("Home", "viewer", 2),
    ]
    listed = (await client.get("/api/tasks", headers=bo.auth)).json()["items"]
    assert [t["title"] for t in listed] == ["Fix tap"]  # in Bo's own list, beside his Inbox
    assert (await client.get(f"/api/tasks/{task['id']}", headers=bo.auth)).json()["title"] == "Fix tap"
    members = (await client.get(f"/api/projects/{home['id']}/members", headers=bo.auth)).json()
    assert [(m["email"], m["role"]) for m in members] == [(ada.email, "owner"), (bo.email, "viewer")]

    # a viewer reads but does not write
    for method, url, body in (
        ("PATCH", f"/api/tasks/{task['id']}", {"title": "Mine now"}),
        ("POST", f"/api/tasks/{task['id']}/complete", None),
        ("DELETE", f"/api/tasks/{task['id']}", None),
        ("POST", "/api/tasks", {"title": "Sneaked in", "project_id": home["id"]}),
        ("POST", "/api/quick-add", {"text": "Sneaked in tomorrow", "project_id": home["id"]}),
        ("PATCH", f"/api/projects/{home['id']}", {"name": "Bo's"}),
        ("POST", f"/api/tasks/{task['id']}/snooze", {"minutes": 10}),
        ("POST", f"/api/tasks/{task['id']}/checklist", {"text": "Mine"}),
        ("POST", f"/api/projects/{home['id']}/members", {"email": cy.email, "role": "editor"}),
    ):
        refused = await client.request(method, url, json=body, headers=bo.auth)
        assert refused.status_code == 403, (method, url, refused.text)
        assert refused.json()["error"]["code"] == "forbidden"
    assert (await client.get(f"/api/tasks/{task['id']}", headers=ada.auth)).json()["version"] == 1

    # made an editor (sharing again changes the role), he does
    assert (await share(client, ada, home["id"], bo, "editor")).json()["role"] == "editor"
    done = await client.post(f"/api/tasks/{task['id']}/complete", headers=bo.auth)
    assert done.json()["completed"] is True
    his = await client.post(
        "/api/tasks", json={"title": "Buy washers", "project_id": home["id"]}, headers=bo.auth
    )
    assert his.status_code == 201
    # and Ada sees what he made in her project; Cy sees none of it
    titles = {t["title"] for t in (await client.get("/api/tasks", headers=ada.auth)).json()["items"]}
    assert titles == {"Fix tap", "Buy washers"}
    assert (await client.get("/api/tasks", headers=cy.auth)).json()["total"] == 0


async def test_every_id_of_a_project_is_not_found_for_a_non_member(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    ada, cy = people["ada"], people["cy"]
    home, task = await home_with_a_task(client, ada)
    series_body = {"title": "Bins", "recurrence_type": "weekly", "start_date": "2026-07-01T18:00:00Z",
                   "project_id": home["id"]}  # fmt: skip
    series = (await client.post("/api/recurring-tasks", json=series_body, headers=ada.auth)).json()
    p, t, s = home["id"], task["id"], series["id"]
    requests = [
        ("GET", f"/api/projects/{p}", None),
        ("PATCH", f"/api/projects/{p}", {"position": 3}),
        ("DELETE", f"/api/projects/{p}", None),
        ("GET", f"/api/projects/{p}/members", None),
        ("POST", f"/api/projects/{p}/members", {"email": cy.email}),
        ("DELETE", f"/api/projects/{p}/members/{ada.id}", None),
        ("GET", f"/api/tasks?project_id={p}", None),
        ("POST", "/api/tasks", {"title": "Mine", "project_id": p}),
        ("POST", "/api/quick-add", {"text": "Mine tomorrow", "project_id": p}),
        ("POST", "/api/recurring-tasks", series_body),
        ("GET", f"/api/tasks/{t}", None),
        ("PUT", f"/api/tasks/{t}", {"title": "Mine"}),
        ("PATCH", f"/api/tasks/{t}", {"title": "Mine"}),
        ("POST", f"/api/tasks/{t}/complete", None),
        ("POST", f"/api/tasks/{t}/uncomplete", None),
        ("DELETE", f"/api/tasks/{t}", None),
        ("GET", f"/api/tasks/{t}/events", None),
        ("GET", f"/api/tasks/{t}/reminders", None),
        ("POST", f"/api/tasks/{t}/snooze", {"minutes": 10}),
        ("GET", f"/api/tasks/{t}/checklist", None),
        ("POST", f"/api/tasks/{t}/checklist", {"text": "Mine"}),
        ("GET", f"/api/recurring-tasks/{s}", None),
        ("PUT", f"/api/recurring-tasks/{s}", {"is_active": False}),
        ("DELETE", f"/api/recurring-tasks/{s}", None),
        ("GET", f"/api/recurring-tasks/{s}/occurrences", None),
    ]
    for method, url, body in requests:
        answer = await client.request(method, url, json=body, headers=cy.auth)
        assert answer.status_code == 404, (method, url, answer.status_code, answer.text)
    # nor can Cy move his own task into it
    his = (await client.post("/api/tasks", json={"title": "His"}, headers=cy.auth)).json()
    moved = await client.patch(f"/api/tasks/{his['id']}", json={"project_id": p}, headers=cy.auth)
    assert moved.status_code == 404
    assert (await client.get(f"/api/tasks/{t}", headers=ada.auth)).json()["version"] == 1  # nothing changed


async def test_a_removed_member_loses_access_at_once_and_a_member_may_leave(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    home, task = await home_with_a_task(client, ada)
    for person in (bo, cy):
        assert (await share(client, ada, home["id"], person, "editor")).status_code == 201
    assert (await client.get(f"/api/tasks/{task['id']}", headers=bo.auth)).status_code == 200

    assert (
        await client.delete(f"/api/projects/{home['id']}/members/{cy.id}", headers=bo.auth)
    ).status_code == 403
    removed = await client.delete(f"/api/projects/{home['id']}/members/{bo.id}", headers=ada.auth)
    assert removed.status_code == 204
    assert (await client.get(f"/api/tasks/{task['id']}", headers=bo.auth)).status_code == 404
    assert (await client.get("/api/tasks", headers=bo.auth)).json()["total"] == 0
    assert [p["name"] for p in (await client.get("/api/projects", headers=bo.auth)).json()] == ["Inbox"]

    left = await client.delete(f"/api/projects/{home['id']}/members/{cy.id}", headers=cy.auth)
    assert left.status_code == 204
    assert (await client.get(f"/api/projects/{home['id']}", headers=cy.auth)).status_code == 404
    owner_leaves = await client.delete(f"/api/projects/{home['id']}/members/{ada.id}", headers=ada.auth)
    assert owner_leaves.status_code == 409
    assert (await client.get(f"/api/projects/{home['id']}", headers=ada.auth)).json()["members"] == 1


async def test_a_shared_tasks_reminder_reaches_each_member_once_in_their_own_zone(
    client: httpx.AsyncClient, people: dict[str, Person], container: Container
) -> None:
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    home = (await client.post("/api/projects", json={"name": "Home"}, headers=ada.auth)).json()
    assert (await share(client, ada, home["id"], bo, "viewer")).status_code == 201
    body = {"title": "Pay rent", "due_date": "2026-06-15T16:00:00Z", "project_id": home["id"]}
    task = (await client.post("/api/tasks", json=body, headers=ada.auth)).json()
    await announce(container, TASK_DUE, task["id"])
    await settle(container)

    bodies = {}
    for person in (ada, bo):
        [note] = (await client.get("/api/notifications", headers=person.auth)).json()["items"]
        bodies[person.email] = note["body"]
    assert bodies == {
        ada.email: "Pay rent is due today at 18:00 (Europe/Berlin).",
        bo.email: "Pay rent is due today at 12:00 (America/New_York).",
    }
    assert (await client.get("/api/notifications", headers=cy.auth)).json()["total"] == 0

    # a redelivered event (the relay crashed before marking it sent) leaves no second copy for anyone
    async with container.sessions() as session, session.begin():
        await session.execute(update(TaskEvent).values(published_at=None))
    await settle(container)
    async with container.sessions() as session:
        owners = (await session.scalars(select(Notification.user_id))).all()
    assert sorted(map(str, owners)) == sorted([ada.id, bo.id])


async def test_insights_count_a_shared_projects_tasks_for_its_members_while_they_are_members(
    client: httpx.AsyncClient, people: dict[str, Person], container: Container
) -> None:
    ada, bo = people["ada"], people["bo"]
    home = (await client.post("/api/projects", json={"name": "Home"}, headers=ada.auth)).json()
    assert (await share(client, ada, home["id"], bo, "editor")).status_code == 201
    task = (await client.post("/api/tasks", json={"title": "Fix tap", "project_id": home["id"]},
                              headers=ada.auth)).json()  # fmt: skip
    assert (await client.post(f"/api/tasks/{task['id']}/complete", headers=bo.auth)).status_code == 200
    await client.post("/api/tasks", json={"title": "Bo's own"}, headers=bo.auth)
    await settle(container)

    async def totals(person: Person) -> dict[str, int]:
        stats: dict[str, int] = (await client.get("/api/stats", headers=person.auth)).json()["totals"]
        return stats

    assert ((await totals(ada))["created"], (await totals(ada))["completed"]) == (1, 1)
    assert ((await totals(bo))["created"], (await totals(bo))["completed"]) == (2, 1)
    await client.delete(f"/api/projects/{home['id']}/members/{bo.id}", headers=ada.auth)
    assert ((await totals(bo))["created"], (await totals(bo))["completed"]) == (1, 0)
