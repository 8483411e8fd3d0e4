"""A task's checklist: items added, checked, moved and removed, each a change of the task with its event;
a series' occurrences each start with its checklist unchecked."""

from __future__ import annotations

from datetime import UTC, timedelta

import httpx
import pytest

from tests.conftest import Register, settle
from todo.bootstrap import Container
from todo.clock import FrozenClock
from todo.tasks import checklist


async def test_items_are_added_checked_moved_and_removed_each_a_change_of_the_task(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = {"title": "Paint the fence", "checklist": ["Buy paint", "Sand"]}
    task = (await client.post("/api/tasks", json=body, headers=auth)).json()
    assert [(i["text"], i["done"]) for i in task["checklist"]] == [("Buy paint", False), ("Sand", False)]
    url = f"/api/tasks/{task['id']}/checklist"
    added = await client.post(url, json={"text": "  Paint  "}, headers=auth)
    assert added.status_code == 201
    top = await client.post(url, json={"text": "Borrow a ladder", "position": 0}, headers=auth)
    ladder, paint = top.json()["id"], added.json()["id"]
    checked = await client.patch(f"{url}/{ladder}", json={"done": True}, headers=auth)
    assert (checked.json()["text"], checked.json()["done"]) == ("Borrow a ladder", True)
    moved = await client.patch(f"{url}/{paint}", json={"position": 1, "text": "Paint twice"}, headers=auth)
    assert moved.status_code == 200
    sand = (await client.get(url, headers=auth)).json()[3]["id"]
    assert (await client.delete(f"{url}/{sand}", headers=auth)).status_code == 204

    items = (await client.get(url, headers=auth)).json()
    assert [(i["text"], i["done"]) for i in items] == [
        ("Borrow a ladder", True), ("Paint twice", False), ("Buy paint", False)
    ]  # fmt: skip
    now = (await client.get(f"/api/tasks/{task['id']}", headers=auth)).json()
    assert (now["checklist"], now["version"]) == (items, 6)  # five changes after its creation
    history = (await client.get(f"/api/tasks/{task['id']}/events", headers=auth)).json()
    assert [e["event_type"] for e in history] == ["created"] + ["updated"] * 5
    assert [i["text"] for i in history[-1]["data"]["checklist"]] == [
        "Borrow a ladder",
        "Paint twice",
        "Buy paint",
    ]


async def test_bad_checklist_input_is_refused_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient, register: Register
) -> None:
    auth, stranger = await register(), await register()
    task = (
        await client.post("/api/tasks", json={"title": "Pack", "checklist": ["Socks"]}, headers=auth)
    ).json()
    url = f"/api/tasks/{task['id']}/checklist"
    for body, field in (
        ({"text": ""}, "text"),
        ({"text": "x" * 201}, "text"),
        ({"text": "Hat", "position": -1}, "position"),
        ({"text": "Hat", "done": True}, "done"),
    ):
        refused = await client.post(url, json=body, headers=auth)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["fields"][0]["field"] == field
    too_many = await client.post("/api/tasks", json={"title": "Big", "checklist": ["x"] * 101}, headers=auth)
    assert (too_many.status_code, too_many.json()["error"]["fields"][0]["field"]) == (422, "checklist")
    assert (await client.patch(f"{url}/nope", json={"done": True}, headers=auth)).status_code == 404
    assert (await client.post(url, json={"text": "Mine"}, headers=stranger)).status_code == 404
    assert (await client.get(url, headers=stranger)).status_code == 404
    unchanged = (await client.get(f"/api/tasks/{task['id']}", headers=auth)).json()
    assert ([i["text"] for i in unchanged["checklist"]], unchanged["version"]) == (["Socks"], 1)


async def test_each_occurrence_of_a_series_starts_with_its_checklist_unchecked(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container, clock: FrozenClock
) -> None:
    start = clock.now() + timedelta(hours=2)
    series = {"title": "Weekly clean", "recurrence_type": "daily", "start_date": start.isoformat(),
              "checklist": ["Kitchen", "Bathroom"]}  # fmt: skip
    made = (await client.post("/api/recurring-tasks", json=series, headers=auth)).json()
    assert made["checklist"] == ["Kitchen", "Bathroom"]
    [first] = (await client.get("/api/tasks", headers=auth)).json()["items"]
    kitchen = first["checklist"][0]["id"]
    await client.patch(f"/api/tasks/{first['id']}/checklist/{kitchen}", json={"done": True}, headers=auth)
    await client.post(f"/api/tasks/{first['id']}/complete", headers=auth)

    clock.set(start + timedelta(hours=1))  # the next one's day ahead has begun
    await settle(container)
    tasks = (await client.get("/api/tasks", params={"sort": "due_date"}, headers=auth)).json()["items"]
    assert [t["due_date"] for t in tasks] == [
        start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        (start + timedelta(days=1)).astimezone(UTC).isoformat().replace("+00:00", "Z"),
    ]
    assert [(i["text"], i["done"]) for i in tasks[0]["checklist"]] == [("Kitchen", True), ("Bathroom", False)]
    assert [(i["text"], i["done"]) for i in tasks[1]["checklist"]] == [
        ("Kitchen", False),
        ("Bathroom", False),
    ]
    assert tasks[1]["checklist"][0]["id"] != kitchen  # its own items

    new_list = {"checklist": ["Kitchen", "Floors"]}
    changed = await client.put(f"/api/recurring-tasks/{made['id']}", json=new_list, headers=auth)
    assert changed.json()["checklist"] == ["Kitchen", "Floors"]
    waiting = (await client.get(f"/api/tasks/{tasks[1]['id']}", headers=auth)).json()
    assert [i["text"] for i in waiting["checklist"]] == ["Kitchen", "Floors"]  # the one created ahead follows


@pytest.mark.parametrize(
    ("position", "order"),
    [(None, ["a", "b", "c"]), (0, ["c", "a", "b"]), (1, ["a", "c", "b"]), (9, ["a", "b", "c"])],
)
def test_an_item_goes_where_it_is_put(position: int | None, order: list[str]) -> None:
    items, _ = checklist.add(checklist.fresh(["a", "b"]), "c", position)
    assert checklist.texts(items) == order


def test_moving_an_item_keeps_the_others_in_their_order_and_leaves_the_list_it_came_from_alone() -> None:
    before = checklist.fresh(["a", "b", "c", "d"])
    after, moved = checklist.change(before, before[0]["id"], text=None, done=True, position=2)
    assert (checklist.texts(after), moved["done"]) == (["b", "c", "a", "d"], True)
    assert (checklist.texts(before), before[0]["done"]) == (["a", "b", "c", "d"], False)
    with pytest.raises(KeyError):
        checklist.remove(after, "missing")
    full = checklist.fresh(["x"] * checklist.MOST_ITEMS)
    with pytest.raises(checklist.ChecklistError):
        checklist.add(full, "one more", None)
