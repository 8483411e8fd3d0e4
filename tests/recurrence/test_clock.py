"""The recurrence clock: the spec's acceptance scenarios with a frozen clock moved day by day, DST in two
zones, downtime without a flood, and repeat-from-completion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import START, ContainerFactory, Register, api_client, iso_z, settle, sign_up
from todo.bootstrap import Container
from todo.clock import FrozenClock


async def new_series(client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/recurring-tasks", json=body, headers=auth)
    assert response.status_code == 201, response.text
    series: dict[str, Any] = response.json()
    return series


async def occurrences(client: httpx.AsyncClient, auth: dict[str, str], series_id: str) -> list[str]:
    """Due times of the series' tasks, oldest first."""
    page = (await client.get("/api/tasks?sort=due_date&page_size=100", headers=auth)).json()
    return [t["due_date"] for t in page["items"] if t["recurring_task_id"] == series_id]


async def day_by_day(
    container: Container, clock: FrozenClock, days: int, *, step: timedelta = timedelta(days=1)
) -> None:
    for _ in range(days):
        clock.advance(step)
        await settle(container)


async def test_take_medication_every_day(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container, clock: FrozenClock
) -> None:
    series = await new_series(client, auth, title="Take medication", recurrence_type="daily",
                              start_date="2026-06-16T08:00:00Z")  # fmt: skip
    await settle(container)
    assert await occurrences(client, auth, series["id"]) == ["2026-06-16T08:00:00Z"]  # tomorrow's, ahead
    await day_by_day(container, clock, 5)  # now 20 June, 12:00
    assert await occurrences(client, auth, series["id"]) == [f"2026-06-{d}T08:00:00Z" for d in range(16, 22)]
    shown = (await client.get(f"/api/recurring-tasks/{series['id']}", headers=auth)).json()
    assert (shown["next_due_at"], shown["occurrences_created"]) == ("2026-06-21T08:00:00Z", 6)
    notes = (await client.get("/api/notifications", headers=auth)).json()["items"]
    assert len(notes) == 5  # one for each occurrence that came due, none for the one ahead
    assert {n["kind"] for n in notes} == {"occurrence_due"}  # its due reminder is recurring-task-due


async def test_an_occurrence_appears_a_day_ahead_of_its_time(
    client: httpx.AsyncClient, register: Register, container: Container, clock: FrozenClock
) -> None:
    """'Weekly Standup every Monday': the task appears on Sunday at 10:00 Berlin time, not before."""
    auth = await register(timezone="Europe/Berlin")
    series = await new_series(client, auth, title="Weekly Standup", rrule="FREQ=WEEKLY;BYDAY=MO",
                              start_date="2026-06-22T10:00:00")  # fmt: skip
    monday_ten = datetime(2026, 6, 22, 8, 0, tzinfo=UTC)
    clock.set(monday_ten - timedelta(days=1, seconds=1))
    await settle(container)
    assert await occurrences(client, auth, series["id"]) == []
    clock.set(monday_ten - timedelta(days=1))
    await settle(container)
    assert await occurrences(client, auth, series["id"]) == ["2026-06-22T08:00:00Z"]
    await day_by_day(container, clock, 14)
    assert await occurrences(client, auth, series["id"]) == [
        "2026-06-22T08:00:00Z", "2026-06-29T08:00:00Z", "2026-07-06T08:00:00Z"
    ]  # fmt: skip


async def test_a_series_with_an_end_date_stops(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container, clock: FrozenClock
) -> None:
    series = await new_series(client, auth, title="Course", recurrence_type="daily",
                              start_date="2026-06-15T09:00:00Z", end_date="2026-06-17T09:00:00Z")  # fmt: skip
    await day_by_day(container, clock, 6)
    assert await occurrences(client, auth, series["id"]) == [
        "2026-06-15T09:00:00Z", "2026-06-16T09:00:00Z", "2026-06-17T09:00:00Z"
    ]  # fmt: skip
    shown = (await client.get(f"/api/recurring-tasks/{series['id']}", headers=auth)).json()
    assert (shown["is_active"], shown["next_due_at"]) == (False, None)


async def test_daily_nine_oclock_stays_nine_oclock_across_dst(
    client: httpx.AsyncClient, register: Register, container: Container, clock: FrozenClock
) -> None:
    """Berlin changes on 25 Oct 2026 and 28 Mar 2027; New York on 1 Nov 2026 and 14 Mar 2027."""
    zones = {"Europe/Berlin": None, "America/New_York": None}
    for zone in zones:
        auth = await register(timezone=zone)
        series = await new_series(client, auth, title=f"Standup {zone}", recurrence_type="daily",
                                  start_date="2026-10-20T09:00:00")  # fmt: skip
        zones[zone] = (auth, series["id"])  # type: ignore[assignment]
    for first_day in (datetime(2026, 10, 20, 18, tzinfo=UTC), datetime(2027, 3, 10, 18, tzinfo=UTC)):
        clock.set(first_day)
        await settle(container)  # after the winter's downtime: only the latest missed occurrence
        await day_by_day(container, clock, 14)
    for zone, (auth, series_id) in zones.items():  # type: ignore[misc]
        created = await occurrences(client, auth, series_id)
        local = {datetime.fromisoformat(d).astimezone(_zone(zone)).strftime("%H:%M") for d in created}
        assert local == {"09:00"}, (zone, created)
        # 15 in the autumn, 15 in the spring, each with the next one ahead: nothing in between was flooded
        assert len(created) == 32
        offsets = {datetime.fromisoformat(d).astimezone(_zone(zone)).utcoffset() for d in created}
        assert len(offsets) == 2  # both sides of each change were crossed


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


async def test_downtime_creates_only_the_latest_missed_occurrence(
    make_container: ContainerFactory, clock: FrozenClock
) -> None:
    first = await make_container()
    async with api_client(first) as client:
        auth = await sign_up(client)
        series = await new_series(client, auth, title="Water plants", recurrence_type="daily",
                                  start_date="2026-06-15T09:00:00Z")  # fmt: skip
    await first.stop()
    clock.set(START + timedelta(days=10))  # ten occurrences came due while nothing was running
    second = await make_container()
    async with api_client(second) as client:
        await settle(second)
        await settle(second)
        assert await occurrences(client, auth, series["id"]) == [
            "2026-06-15T09:00:00Z",
            "2026-06-16T09:00:00Z",  # created ahead before the downtime
            "2026-06-25T09:00:00Z",  # the latest missed one
            "2026-06-26T09:00:00Z",  # and tomorrow's
        ]
        shown = (await client.get(f"/api/recurring-tasks/{series['id']}", headers=auth)).json()
        assert shown["next_due_at"] == "2026-06-26T09:00:00Z"


async def test_repeat_from_completion(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container, clock: FrozenClock
) -> None:
    series = await new_series(client, auth, title="Change filter", recurrence_type="weekly",
                              recurrence_interval=2, start_date="2026-06-15T09:00:00Z",
                              repeat_from="completion")  # fmt: skip
    [first] = (await client.get("/api/tasks", headers=auth)).json()["items"]
    await day_by_day(container, clock, 30)
    assert await occurrences(client, auth, series["id"]) == ["2026-06-15T09:00:00Z"]  # waits for completion
    completed_at = clock.now()  # 15 July 12:00
    await client.post(f"/api/tasks/{first['id']}/complete", headers=auth)
    await settle(container)
    due_next = completed_at + timedelta(weeks=2)
    assert await occurrences(client, auth, series["id"]) == ["2026-06-15T09:00:00Z", iso_z(due_next)]
    # completing the old one again (after reopening it) does not create another
    await client.post(f"/api/tasks/{first['id']}/uncomplete", headers=auth)
    await client.post(f"/api/tasks/{first['id']}/complete", headers=auth)
    await settle(container)
    assert len(await occurrences(client, auth, series["id"])) == 2


async def test_moving_one_occurrence_leaves_the_series_alone(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container, clock: FrozenClock
) -> None:
    """Today's occurrence is moved to tomorrow 09:00, the very time of the next one: both still exist."""
    series = await new_series(
        client, auth, title="Read", recurrence_type="daily", start_date="2026-06-15T09:00:00Z"
    )
    today, _ = (await client.get("/api/tasks?sort=due_date", headers=auth)).json()["items"]
    change = {"due_date": "2026-06-16T09:00:00Z", "title": "Read (moved)"}
    moved = await client.patch(f"/api/tasks/{today['id']}", json=change, headers=auth)
    assert moved.json()["occurrence_at"] == "2026-06-15T09:00:00Z"  # what it stands for does not move
    await day_by_day(container, clock, 1)
    tasks = (await client.get("/api/tasks?sort=due_date", headers=auth)).json()["items"]
    assert sorted((t["title"], t["occurrence_at"], t["due_date"]) for t in tasks) == [
        ("Read", "2026-06-16T09:00:00Z", "2026-06-16T09:00:00Z"),
        ("Read", "2026-06-17T09:00:00Z", "2026-06-17T09:00:00Z"),
        ("Read (moved)", "2026-06-15T09:00:00Z", "2026-06-16T09:00:00Z"),
    ]
    shown = (await client.get(f"/api/recurring-tasks/{series['id']}", headers=auth)).json()
    assert (shown["next_due_at"], shown["occurrences_created"]) == ("2026-06-17T09:00:00Z", 3)
