"""The private iCalendar feed, read back with the `icalendar` library as a calendar app would."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar
from sqlalchemy import select

from tests.conftest import Register
from todo.bootstrap import Container
from todo.calendar.models import CalendarFeed


async def subscribe(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    made = await client.post("/api/me/calendar-feed", headers=auth)
    assert made.status_code == 201, made.text
    url: str = made.json()["url"]
    return url.removeprefix(str(client.base_url))


async def test_the_feed_holds_open_tasks_and_series_and_nobody_elses(
    client: httpx.AsyncClient, register: Register
) -> None:
    auth = await register(timezone="Europe/Berlin")
    due = {"title": "Pay rent", "due_date": "2026-07-01T09:00:00+02:00", "tags": ["home"], "priority": 1}
    task = (await client.post("/api/tasks", json=due, headers=auth)).json()
    done = (await client.post("/api/tasks", json={"title": "Done already"}, headers=auth)).json()
    await client.post(f"/api/tasks/{done['id']}/complete", headers=auth)
    standup = {"title": "Standup", "rrule": "FREQ=WEEKLY;BYDAY=MO,WE", "start_date": "2026-06-17T09:30:00"}
    series = (await client.post("/api/recurring-tasks", json=standup, headers=auth)).json()
    other = await register()
    await client.post("/api/tasks", json={"title": "Someone else's"}, headers=other)
    path = await subscribe(client, auth)

    answer = await client.get(path)  # no sign-in: the token in the URL is the key
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    todos = {str(c["summary"]): c for c in calendar.walk("VTODO")}
    events = {str(c["uid"]): c for c in calendar.walk("VEVENT")}
    assert "Done already" not in todos
    assert "Someone else's" not in todos
    rent = todos["Pay rent"]
    assert rent.decoded("due") == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert (int(rent["priority"]), rent["categories"].cats) == (1, ["home"])
    assert events[f"{task['id']}-due@todo"].decoded("dtstart") == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    weekly = events[f"{series['id']}@todo"]
    assert weekly.decoded("dtstart") == datetime(2026, 6, 17, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert weekly["rrule"]["freq"] == ["WEEKLY"]
    assert weekly["rrule"]["byday"] == ["MO", "WE"]
    assert {str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")} == {"Europe/Berlin"}


async def test_a_feed_is_shown_again_revoked_and_replaced_and_its_token_not_kept(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container
) -> None:
    none = (await client.get("/api/me/calendar-feed", headers=auth)).json()
    assert (none["active"], none["url"]) == (False, None)
    first = await subscribe(client, auth)
    state = (await client.get("/api/me/calendar-feed", headers=auth)).json()
    assert (state["active"], state["url"], state["last_read_at"]) == (True, f"{client.base_url}{first}", None)
    async with container.sessions() as session:
        [stored] = (await session.execute(select(CalendarFeed.__table__))).all()
    token = first.split("/")[-1].removesuffix(".ics")
    assert token not in str(stored)  # derived from the server's secret when shown; only its hash is kept
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (await client.get(first)).status_code == 200
    assert (await client.get("/api/me/calendar-feed", headers=auth)).json()["last_read_at"] is not None
    second = await subscribe(client, auth)
    assert (await client.get(first)).status_code == 404  # replaced: the old URL stops working
    assert (await client.get(second)).status_code == 200
    assert (await client.delete("/api/me/calendar-feed", headers=auth)).status_code == 204
    assert (await client.get(second)).status_code == 404
    assert (await client.get("/api/calendar/not-a-token.ics")).status_code == 404
