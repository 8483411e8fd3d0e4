"""Projects: each user's Inbox, projects of one's own in one's own order, archived ones out of the way."""

from __future__ import annotations

import httpx

from tests.conftest import Register


async def me(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    user_id: str = (await client.get("/api/me", headers=auth)).json()["id"]
    return user_id


async def test_a_new_account_has_an_inbox_where_tasks_and_series_go_by_default(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    [inbox] = (await client.get("/api/projects", headers=auth)).json()
    assert (inbox["name"], inbox["is_inbox"], inbox["role"], inbox["members"]) == ("Inbox", True, "owner", 1)
    task = (await client.post("/api/tasks", json={"title": "Buy milk"}, headers=auth)).json()
    series = {"title": "Standup", "recurrence_type": "daily", "start_date": "2026-07-01T09:30:00Z"}
    made = (await client.post("/api/recurring-tasks", json=series, headers=auth)).json()
    assert task["project_id"] == made["project_id"] == inbox["id"] == await me(client, auth)
    for change, reason in (({"name": "Later"}, "name"), ({"archived": True}, "archived")):
        refused = await client.patch(f"/api/projects/{inbox['id']}", json=change, headers=auth)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["fields"][0]["field"] == reason
    assert (await client.delete(f"/api/projects/{inbox['id']}", headers=auth)).status_code == 409


async def test_projects_are_listed_in_the_users_order_and_filter_the_task_list(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    home = (
        await client.post("/api/projects", json={"name": "Home", "color": "#2E8B57"}, headers=auth)
    ).json()
    work = (await client.post("/api/projects", json={"name": "Work"}, headers=auth)).json()
    assert (home["color"], work["color"], home["position"] < work["position"]) == ("#2e8b57", "#4f7cac", True)
    moved = await client.patch(f"/api/projects/{work['id']}", json={"position": 0}, headers=auth)
    assert moved.json()["position"] == 0
    names = [p["name"] for p in (await client.get("/api/projects", headers=auth)).json()]
    assert names == ["Inbox", "Work", "Home"]  # the Inbox first, then the user's order

    for title, project in (("Water plants", home), ("Report", work), ("Buy milk", None)):
        body = {"title": title} | ({"project_id": project["id"]} if project else {})
        assert (await client.post("/api/tasks", json=body, headers=auth)).status_code == 201
    listed = await client.get("/api/tasks", params={"project_id": home["id"]}, headers=auth)
    assert [t["title"] for t in listed.json()["items"]] == ["Water plants"]

    archived = await client.patch(f"/api/projects/{work['id']}", json={"archived": True}, headers=auth)
    assert archived.json()["archived"] is True
    everything = (await client.get("/api/tasks", headers=auth)).json()["items"]
    assert sorted(t["title"] for t in everything) == [
        "Buy milk",
        "Water plants",
    ]  # the archived one's left out
    still = await client.get("/api/tasks", params={"project_id": work["id"]}, headers=auth)
    assert [t["title"] for t in still.json()["items"]] == ["Report"]  # but there when asked for
    with_archived = await client.get("/api/projects", params={"archived": "true"}, headers=auth)
    assert [p["name"] for p in with_archived.json()] == ["Inbox", "Work", "Home"]
    assert [p["name"] for p in (await client.get("/api/projects", headers=auth)).json()] == ["Inbox", "Home"]


async def test_a_task_moves_between_projects_and_a_deleted_project_takes_its_tasks(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    home = (await client.post("/api/projects", json={"name": "Home"}, headers=auth)).json()
    task = (await client.post("/api/tasks", json={"title": "Fix tap"}, headers=auth)).json()
    moved = await client.patch(f"/api/tasks/{task['id']}", json={"project_id": home["id"]}, headers=auth)
    assert (moved.json()["project_id"], moved.json()["version"]) == (home["id"], 2)
    series = {"title": "Bins", "recurrence_type": "weekly", "start_date": "2026-07-01T18:00:00Z",
              "project_id": home["id"]}  # fmt: skip
    made = (await client.post("/api/recurring-tasks", json=series, headers=auth)).json()

    assert (await client.delete(f"/api/projects/{home['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"/api/tasks/{task['id']}", headers=auth)).status_code == 404
    assert (await client.get(f"/api/recurring-tasks/{made['id']}", headers=auth)).status_code == 404
    history = (await client.get(f"/api/tasks/{task['id']}/events", headers=auth)).json()
    assert [e["event_type"] for e in history][
        -1
    ] == "deleted"  # its own event: reminders cancelled, counts kept
    assert (await client.get("/api/tasks", headers=auth)).json()["total"] == 0


async def test_bad_project_input_is_refused_naming_the_field(
    client: httpx.AsyncClient, register: Register
) -> None:
    auth = await register()
    cases = [
        ({"name": ""}, "name"),
        ({"name": "Home", "color": "green"}, "color"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Home", "owner_id": "someone"}, "owner_id"),
    ]
    for body, field in cases:
        refused = await client.post("/api/projects", json=body, headers=auth)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["fields"][0]["field"] == field
    home = (await client.post("/api/projects", json={"name": "Home"}, headers=auth)).json()
    unknown = await client.post(f"/api/projects/{home['id']}/members", json={"email": "nobody@example.com"},
                                headers=auth)  # fmt: skip
    assert (unknown.status_code, unknown.json()["error"]["fields"][0]["field"]) == (422, "email")
    inbox_id = await me(client, auth)
    other = await register(email="other@example.com")
    assert other
    shared_inbox = await client.post(f"/api/projects/{inbox_id}/members", json={"email": "other@example.com"},
                                     headers=auth)  # fmt: skip
    assert shared_inbox.status_code == 409
