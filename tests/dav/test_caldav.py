"""CalDAV against a real `todo up`, driven by the `caldav` client library (as Thunderbird or DAVx5 sync):
discovery finds a calendar per project, a task made on either side shows on the other, completion and
deletion sync, and the credentials are an email and an API token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import caldav
import httpx
import icalendar
import pytest
from caldav.lib.error import AuthorizationError

from tests.test_cli import start, stop
from todo.platform.ports import free_port

EMAIL = "ada@example.com"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = start(tmp_path_factory.mktemp("dav"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def signed_up(api: str, email: str, scope: str) -> tuple[dict[str, str], str]:
    """A new account's sign-in, and an API token of `scope` for it."""
    with httpx.Client(base_url=api) as http:
        body = {"email": email, "password": "password123", "timezone": "UTC"}
        auth = {
            "Authorization": f"Bearer {http.post('/api/auth/register', json=body).json()['access_token']}"
        }
        token = http.post("/api/me/tokens", json={"name": "dav", "scope": scope}, headers=auth).json()[
            "token"
        ]
    return auth, token


def vtodo(summary: str, **fields: object) -> str:
    """A to-do as a client writes it, with a UID of the client's own."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//tests//EN")
    calendar.add("version", "2.0")
    todo = icalendar.Todo()
    todo.add("uid", f"{uuid.uuid4()}@client.example")
    todo.add("dtstamp", datetime.now(UTC))
    todo.add("summary", summary)
    for name, value in fields.items():
        todo.add(name, value)
    calendar.add_component(todo)
    text: str = calendar.to_ical().decode()
    return text


def test_a_caldav_client_syncs_tasks_both_ways(api: str) -> None:
    auth, write_token = signed_up(api, EMAIL, "write")
    http = httpx.Client(base_url=api, headers=auth)
    home = http.post("/api/projects", json={"name": "Home"}).json()
    http.post("/api/tasks", json={"title": "Fix the tap", "due_date": "2026-12-09T17:00:00Z", "priority": 1,
                                  "project_id": home["id"]})  # fmt: skip

    found = httpx.request("PROPFIND", f"{api}/.well-known/caldav")  # where a client looks first (RFC 6764)
    assert (found.status_code, found.headers["location"]) == (301, "/dav/")
    client = caldav.DAVClient(url=f"{api}/dav/", username=EMAIL, password=write_token)
    calendars = {c.get_display_name(): c for c in client.principal().calendars()}
    assert set(calendars) == {"Inbox", "Home"}
    [todo] = calendars["Home"].todos(include_completed=True)
    component = todo.icalendar_component
    assert (str(component["summary"]), component.decoded("due"), int(component["priority"])) == (
        "Fix the tap", datetime(2026, 12, 9, 17, 0, tzinfo=UTC), 1
    )  # fmt: skip

    # made in the client: the task is in the project, as the client said
    due = datetime(2026, 12, 10, 9, tzinfo=UTC)
    made = calendars["Home"].save_todo(vtodo("Buy washers", due=due, priority=9))
    tasks = {t["title"]: t for t in http.get("/api/tasks", params={"project_id": home["id"]}).json()["items"]}
    assert (tasks["Buy washers"]["due_date"], tasks["Buy washers"]["priority"]) == ("2026-12-10T09:00:00Z", 3)
    made.complete()
    assert http.get(f"/api/tasks/{tasks['Buy washers']['id']}").json()["completed"] is True

    # changed here: the client reads the change under the name and UID it chose
    http.patch(f"/api/tasks/{tasks['Buy washers']['id']}", json={"title": "Buy two washers"})
    made.load()
    assert str(made.icalendar_component["summary"]) == "Buy two washers"
    assert str(made.icalendar_component["uid"]).endswith("@client.example")  # the client's own
    uid = str(made.icalendar_component["uid"])
    [done] = [
        t for t in calendars["Home"].todos(include_completed=True) if str(t.icalendar_component["uid"]) == uid
    ]
    assert str(done.icalendar_component["status"]) == "COMPLETED"

    made.delete()
    assert http.get(f"/api/tasks/{tasks['Buy washers']['id']}").status_code == 404
    left = calendars["Home"].todos(include_completed=True)
    assert [str(t.icalendar_component["summary"]) for t in left] == ["Fix the tap"]


def test_a_read_token_reads_and_a_wrong_password_is_refused(api: str) -> None:
    _, token = signed_up(api, "bo@example.com", "read")
    reader = caldav.DAVClient(url=f"{api}/dav/", username="bo@example.com", password=token)
    [inbox] = reader.principal().calendars()
    assert inbox.todos() == []
    with pytest.raises(AuthorizationError, match="Forbidden"):  # 403: the token may only read
        inbox.save_todo(vtodo("Not allowed"))
    stranger = caldav.DAVClient(url=f"{api}/dav/", username="bo@example.com", password="password123")
    with pytest.raises(AuthorizationError):
        stranger.principal()
    unauthenticated = httpx.request("PROPFIND", f"{api}/dav/", headers={"Depth": "0"})
    assert (unauthenticated.status_code, unauthenticated.headers["www-authenticate"].split()[0]) == (
        401,
        "Basic",
    )


def test_a_change_made_meanwhile_is_not_overwritten(api: str) -> None:
    """A client that puts with the ETag it last saw is refused (412) once the task has changed since."""
    auth, token = signed_up(api, "cy@example.com", "write")
    http = httpx.Client(base_url=api, headers=auth)
    user_id = http.get("/api/me").json()["id"]
    task = http.post("/api/tasks", json={"title": "Call the bank"}).json()
    url = f"{api}/dav/calendars/{user_id}/{user_id}/{task['id']}.ics"
    basic = ("cy@example.com", token)
    seen = httpx.get(url, auth=basic)
    assert (seen.status_code, seen.headers["content-type"]) == (200, "text/calendar; charset=utf-8")
    http.patch(f"/api/tasks/{task['id']}", json={"title": "Call the bank today"})
    edited = seen.content.replace(b"SUMMARY:Call the bank", b"SUMMARY:Call the bank tomorrow")
    stale = httpx.put(url, content=edited, auth=basic, headers={"If-Match": seen.headers["etag"]})
    assert stale.status_code == 412
    assert http.get(f"/api/tasks/{task['id']}").json()["title"] == "Call the bank today"
    fresh = httpx.get(url, auth=basic).headers["etag"]
    taken = httpx.put(url, content=edited, auth=basic, headers={"If-Match": fresh})
    assert (taken.status_code, http.get(f"/api/tasks/{task['id']}").json()["title"]) == (
        204,
        "Call the bank tomorrow",
    )
    assert taken.headers["etag"] != fresh
