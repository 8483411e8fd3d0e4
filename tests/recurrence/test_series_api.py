"""Recurring tasks: the spec's contract, rrule, timezone, pause/resume, previews, validation."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.conftest import Register, settle
from todo.bootstrap import Container
from todo.clock import FrozenClock

SPEC_BODY = {
    "title": "Weekly Team Meeting",
    "description": "Standup with the team",
    "priority": 2,
    "recurrence_type": "weekly",
    "recurrence_interval": 1,
    "start_date": "2025-01-01T09:00:00Z",
    "end_date": "2025-12-31T09:00:00Z",
}


async def create(client: httpx.AsyncClient, auth: dict[str, str], **body: object) -> dict[str, object]:
    response = await client.post("/api/recurring-tasks", json=body, headers=auth)
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


SPEC_DAY = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)  # the spec's example is sent on its start day


async def test_the_specs_example_body_verbatim(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    clock.set(SPEC_DAY)
    series = await create(client, auth, **SPEC_BODY)
    assert series["title"] == "Weekly Team Meeting"
    assert series["recurrence_type"] == "weekly"
    assert series["next_due_at"] == "2025-01-08T09:00:00Z"  # the spec's documented answer
    assert series["is_active"] is True
    assert series["occurrences_created"] == 1
    tasks = (await client.get("/api/tasks", headers=auth)).json()["items"]
    assert [(t["title"], t["due_date"], t["recurring_task_id"]) for t in tasks] == [
        ("Weekly Team Meeting", "2025-01-01T09:00:00Z", series["id"])
    ]


async def test_a_series_starting_in_the_past_has_its_current_occurrence_and_the_next(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """Created on 15 June at 12:00 with a start on 1 June: today's 09:00 occurrence and tomorrow's exist,
    and only they (the two weeks before are not back-filled)."""
    series = await create(
        client, auth, title="Take medication", recurrence_type="daily", start_date="2026-06-01T09:00:00Z"
    )
    assert (series["next_due_at"], series["occurrences_created"]) == ("2026-06-16T09:00:00Z", 2)
    tasks = (await client.get("/api/tasks?sort=due_date", headers=auth)).json()["items"]
    assert [(t["due_date"], t["due_state"]) for t in tasks] == [
        ("2026-06-15T09:00:00Z", "overdue"),
        ("2026-06-16T09:00:00Z", "due_soon"),
    ]


async def test_tomorrows_occurrence_is_planned_the_evening_before_with_its_reminders(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container, clock: FrozenClock
) -> None:
    """'Take medication daily at 08:00', created at 20:00: tomorrow's occurrence is listed at once, due
    soon, with the reminders its owner's leads ask for (07:45 among them); none is already past."""
    clock.set(datetime(2026, 6, 15, 20, 0, tzinfo=UTC))
    await client.patch("/api/me", json={"reminder_minutes": [15, 0]}, headers=auth)
    series = await create(
        client, auth, title="Take medication", recurrence_type="daily", start_date="2026-06-16T08:00:00Z"
    )
    assert (series["next_due_at"], series["occurrences_created"]) == ("2026-06-16T08:00:00Z", 1)
    [task] = (await client.get("/api/tasks?due_state=due_soon", headers=auth)).json()["items"]
    assert (task["title"], task["due_date"], task["recurring_task_id"]) == (
        "Take medication",
        "2026-06-16T08:00:00Z",
        series["id"],
    )
    await settle(container)
    reminders = (await client.get(f"/api/tasks/{task['id']}/reminders", headers=auth)).json()
    assert sorted((r["fire_at"], r["state"]) for r in reminders) == [
        ("2026-06-16T07:45:00Z", "pending"),
        ("2026-06-16T08:00:00Z", "pending"),
    ]


async def test_a_weekly_occurrence_is_created_a_day_ahead_not_earlier(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container, clock: FrozenClock
) -> None:
    series = await create(
        client, auth, title="Review", recurrence_type="weekly", start_date="2026-06-18T09:00:00Z"
    )
    assert (await client.get("/api/tasks", headers=auth)).json()["total"] == 0  # three days away
    clock.set(datetime(2026, 6, 17, 8, 59, tzinfo=UTC))
    await settle(container)
    assert (await client.get("/api/tasks", headers=auth)).json()["total"] == 0
    clock.set(datetime(2026, 6, 17, 9, 0, tzinfo=UTC))
    await settle(container)
    [task] = (await client.get("/api/tasks", headers=auth)).json()["items"]
    assert (task["due_date"], task["due_state"]) == ("2026-06-18T09:00:00Z", "due_soon")
    shown = (await client.get(f"/api/recurring-tasks/{series['id']}", headers=auth)).json()
    assert shown["next_due_at"] == "2026-06-18T09:00:00Z"  # the one ahead is still the next one due


async def test_a_series_starting_later_creates_nothing_yet(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    series = await create(
        client, auth, title="later", recurrence_type="weekly", start_date="2026-07-01T09:00:00Z"
    )
    assert (series["next_due_at"], series["occurrences_created"]) == ("2026-07-01T09:00:00Z", 0)
    assert (await client.get("/api/tasks", headers=auth)).json()["total"] == 0


async def test_list_is_paged_and_get_put_delete(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    clock.set(SPEC_DAY)
    first = await create(client, auth, **SPEC_BODY)
    await create(client, auth, **{**SPEC_BODY, "title": "Second"})
    listing = (await client.get("/api/recurring-tasks?page_size=1", headers=auth)).json()
    assert (listing["total"], listing["page"], listing["page_size"], len(listing["items"])) == (2, 1, 1, 1)
    got = (await client.get(f"/api/recurring-tasks/{first['id']}", headers=auth)).json()
    assert got["id"] == first["id"]
    renamed = await client.put(f"/api/recurring-tasks/{first['id']}", json={"title": "Renamed"}, headers=auth)
    assert renamed.status_code == 200
    assert (renamed.json()["title"], renamed.json()["next_due_at"]) == ("Renamed", "2025-01-08T09:00:00Z")
    assert (await client.delete(f"/api/recurring-tasks/{first['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"/api/recurring-tasks/{first['id']}", headers=auth)).status_code == 404
    # the occurrence it created stays, as an ordinary task
    tasks = (await client.get("/api/tasks?q=Weekly", headers=auth)).json()["items"]
    assert [t["recurring_task_id"] for t in tasks] == [None]


async def test_rrule_timezone_and_occurrence_preview(client: httpx.AsyncClient, register: Register) -> None:
    auth = await register(timezone="Europe/Berlin")
    series = await create(
        client, auth, title="Review budget", rrule="FREQ=MONTHLY;BYDAY=-1FR", start_date="2026-07-01T17:00:00"
    )
    assert (series["recurrence_type"], series["timezone"]) == ("monthly", "Europe/Berlin")
    # the first occurrence is the last Friday of July at 17:00 Berlin time (CEST)
    assert series["next_due_at"] == "2026-07-31T15:00:00Z"
    preview = (
        await client.get(f"/api/recurring-tasks/{series['id']}/occurrences?limit=4", headers=auth)
    ).json()
    assert preview["occurrences"][1:] == [
        "2026-08-28T15:00:00Z",
        "2026-09-25T15:00:00Z",
        "2026-10-30T16:00:00Z",
    ]
    assert {t[11:16] for t in preview["local"]} == {"17:00"}  # DST ends 25 October


async def test_preview_before_saving(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = {"title": "x", "recurrence_type": "daily", "start_date": "2026-07-01T09:00:00Z", "count": 2}
    response = await client.post("/api/recurring-tasks/preview?limit=5", json=body, headers=auth)
    assert response.json()["occurrences"] == ["2026-07-01T09:00:00Z", "2026-07-02T09:00:00Z"]
    assert (await client.get("/api/recurring-tasks", headers=auth)).json()["total"] == 0


async def test_count_of_one_ends_the_series_at_once(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    series = await create(
        client, auth, title="once", recurrence_type="daily", start_date="2026-07-01T09:00:00Z", count=1
    )
    assert (series["is_active"], series["next_due_at"], series["occurrences_created"]) == (False, None, 1)
    preview = await client.get(f"/api/recurring-tasks/{series['id']}/occurrences", headers=auth)
    assert preview.json()["occurrences"] == []


async def test_pause_and_resume_continue_from_now(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    series = await create(
        client, auth, title="meds", recurrence_type="daily", start_date="2026-06-01T09:00:00Z"
    )
    assert series["next_due_at"] == "2026-06-16T09:00:00Z"
    paused = (
        await client.put(f"/api/recurring-tasks/{series['id']}", json={"is_active": False}, headers=auth)
    ).json()
    assert paused["is_active"] is False
    assert await due_dates(client, auth) == ["2026-06-15T09:00:00Z"]  # tomorrow's is taken back
    resumed = (
        await client.put(f"/api/recurring-tasks/{series['id']}", json={"is_active": True}, headers=auth)
    ).json()
    # now is 2026-06-15 12:00: no back-fill of the two missed weeks, the next one is tomorrow 09:00
    assert (resumed["is_active"], resumed["next_due_at"]) == (True, "2026-06-16T09:00:00Z")
    assert await due_dates(client, auth) == ["2026-06-15T09:00:00Z", "2026-06-16T09:00:00Z"]


async def due_dates(client: httpx.AsyncClient, auth: dict[str, str]) -> list[str]:
    page = (await client.get("/api/tasks?sort=due_date", headers=auth)).json()
    return [t["due_date"] for t in page["items"]]


async def test_the_occurrence_ahead_follows_its_series(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """Renamed, rescheduled, deleted: the occurrence waiting ahead follows; today's stays as it was."""
    series = await create(client, auth, title="Stretch", recurrence_type="daily",
                          start_date="2026-06-01T09:00:00Z", tags=["health"])  # fmt: skip
    url = f"/api/recurring-tasks/{series['id']}"
    await client.put(url, json={"title": "Stretch well", "priority": 3}, headers=auth)
    page = (await client.get("/api/tasks?sort=due_date", headers=auth)).json()["items"]
    assert [(t["title"], t["priority"], t["tags"]) for t in page] == [
        ("Stretch", 2, ["health"]),
        ("Stretch well", 3, ["health"]),
    ]
    moved = (await client.put(url, json={"start_date": "2026-06-01T18:00:00Z"}, headers=auth)).json()
    assert moved["next_due_at"] == "2026-06-15T18:00:00Z"
    assert await due_dates(client, auth) == ["2026-06-15T09:00:00Z", "2026-06-15T18:00:00Z"]
    assert (await client.delete(url, headers=auth)).status_code == 204
    page = (await client.get("/api/tasks", headers=auth)).json()["items"]
    assert [(t["due_date"], t["recurring_task_id"]) for t in page] == [("2026-06-15T09:00:00Z", None)]


async def test_changing_the_schedule_reschedules(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    series = await create(
        client, auth, title="gym", recurrence_type="daily", start_date="2026-06-20T07:00:00Z"
    )
    assert series["next_due_at"] == "2026-06-20T07:00:00Z"
    changed = await client.put(
        f"/api/recurring-tasks/{series['id']}", json={"rrule": "FREQ=WEEKLY;BYDAY=MO,TH"}, headers=auth
    )
    body = changed.json()
    assert (body["recurrence_type"], body["next_due_at"]) == ("weekly", "2026-06-22T07:00:00Z")
    assert body["version"] == 2


async def test_resuming_a_finished_series_is_refused(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    series = await create(client, auth, **SPEC_BODY)
    await client.put(f"/api/recurring-tasks/{series['id']}", json={"is_active": False}, headers=auth)
    response = await client.put(
        f"/api/recurring-tasks/{series['id']}", json={"is_active": True}, headers=auth
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "is_active"


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"rrule": "FREQ=HOURLY"}, "rrule", "HOURLY is not supported"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule", "not a valid RFC 5545 rule"),
        ({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "recurrence_type": None}, "rrule", "no occurrence"),
        ({"rrule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "recurrence_type": None}, "rrule", "no occurrence"),
        ({"recurrence_type": "daily", "rrule": "FREQ=WEEKLY"}, "recurrence_type", "rrule says weekly"),
        ({"recurrence_type": None}, "recurrence_type", "required unless rrule"),
        ({"end_date": "2024-01-01T00:00:00Z"}, "end_date", "before start_date"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"recurrence_interval": 0}, "recurrence_interval", "greater than or equal to 1"),
        ({"recurrence_type": "fortnightly"}, "recurrence_type", "daily"),
        ({"count": 0}, "count", "greater than or equal to 1"),
        ({"start_date": "next tuesday"}, "start_date", "datetime"),
    ],
)
async def test_invalid_series_is_a_422_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, object], field: str, fragment: str
) -> None:
    request = {**SPEC_BODY, **body}
    request = {k: v for k, v in request.items() if v is not None}
    response = await client.post("/api/recurring-tasks", json=request, headers=auth)
    assert response.status_code == 422, response.text
    problems = response.json()["error"]["fields"]
    assert any(p["field"] == field and fragment in p["reason"] for p in problems), problems
    assert (await client.get("/api/recurring-tasks", headers=auth)).json()["total"] == 0
