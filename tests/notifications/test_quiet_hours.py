"""Quiet hours: channel deliveries inside them wait until they end; the inbox does not wait."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import Register, announce, settle
from tests.notifications.test_channels import Webhook, put_channels, webhooks  # noqa: F401 (fixture)
from todo.bootstrap import Container
from todo.clock import FrozenClock
from todo.events.envelope import TASK_DUE
from todo.notifications.models import Delivery
from todo.notifications.quiet_hours import after_quiet_hours

NIGHT = (time(22, 0), time(7, 0))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (
            datetime(2026, 6, 15, 21, 30, tzinfo=UTC),
            datetime(2026, 6, 16, 5, 0, tzinfo=UTC),
        ),  # 23:30 -> 07:00
        (datetime(2026, 6, 16, 4, 0, tzinfo=UTC), datetime(2026, 6, 16, 5, 0, tzinfo=UTC)),  # 06:00 -> 07:00
        (datetime(2026, 6, 15, 10, 0, tzinfo=UTC), datetime(2026, 6, 15, 10, 0, tzinfo=UTC)),  # noon: now
        (
            datetime(2026, 6, 16, 5, 0, tzinfo=UTC),
            datetime(2026, 6, 16, 5, 0, tzinfo=UTC),
        ),  # 07:00 sharp: now
        # the clocks go forward in Berlin on 28 March 2027: 07:00 that morning is 05:00 UTC, not 06:00
        (datetime(2027, 3, 27, 22, 0, tzinfo=UTC), datetime(2027, 3, 28, 5, 0, tzinfo=UTC)),
    ],
)
def test_a_delivery_inside_the_night_waits_for_its_end_on_the_wall_clock(
    at: datetime, expected: datetime
) -> None:
    assert after_quiet_hours(at, NIGHT, "Europe/Berlin") == expected


def test_a_window_within_one_day_and_none_at_all() -> None:
    lunch = (time(12, 0), time(13, 30))
    at = datetime(2026, 6, 15, 10, 15, tzinfo=UTC)  # 12:15 in Berlin
    assert after_quiet_hours(at, lunch, "Europe/Berlin") == datetime(2026, 6, 15, 11, 30, tzinfo=UTC)
    assert after_quiet_hours(at, None, "Europe/Berlin") == at


async def test_quiet_hours_are_set_shown_and_turned_off(
    client: httpx.AsyncClient, register: Register
) -> None:
    auth = await register(timezone="Europe/Berlin")
    night = {"start": "22:00:00", "end": "07:00:00"}
    set_ = await client.patch("/api/me", json={"quiet_hours": night}, headers=auth)
    assert (set_.status_code, set_.json()["quiet_hours"]) == (200, night)
    renamed = await client.patch("/api/me", json={"display_name": "Ada"}, headers=auth)
    assert renamed.json()["quiet_hours"] == night  # other changes leave them
    assert (await client.get("/api/me", headers=auth)).json()["quiet_hours"] == night
    for bad in (
        {"start": "22:00", "end": "22:00"},
        {"start": "22:00+02:00", "end": "07:00"},
        {"start": "22:00"},
    ):
        refused = await client.patch("/api/me", json={"quiet_hours": bad}, headers=auth)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["fields"][0]["field"].startswith("quiet_hours")
    off = await client.patch("/api/me", json={"quiet_hours": None}, headers=auth)
    assert off.json()["quiet_hours"] is None


async def test_a_reminder_in_quiet_hours_is_in_the_inbox_at_once_and_sent_when_they_end(
    client: httpx.AsyncClient,
    register: Register,
    container: Container,
    clock: FrozenClock,
    webhooks: list[Webhook],  # noqa: F811 (the fixture)
) -> None:
    working = webhooks[0]
    auth = await register(timezone="Europe/Berlin")  # the clock says 14:00 there
    quiet = {"quiet_hours": {"start": "13:00", "end": "15:30"}}
    assert (await client.patch("/api/me", json=quiet, headers=auth)).status_code == 200
    await put_channels(client, auth, [{"url": working.url}])
    body = {"title": "Pay rent", "due_date": "2026-06-15T16:00:00Z"}
    task = (await client.post("/api/tasks", json=body, headers=auth)).json()
    await announce(container, TASK_DUE, task["id"])
    await settle(container)

    [note] = (await client.get("/api/notifications", headers=auth)).json()["items"]
    assert note["title"] == "Due now: Pay rent"  # in the app at its time
    assert working.received == []
    async with container.sessions() as session:
        [ready_at] = (await session.scalars(select(Delivery.next_attempt_at))).all()
    assert ready_at == datetime(2026, 6, 15, 13, 30, tzinfo=UTC)  # 15:30 in Berlin
    clock.set(ready_at - timedelta(seconds=1))
    await settle(container)
    assert working.received == []
    clock.set(ready_at)
    await settle(container)
    assert [r["title"] for r in working.received] == ["Due now: Pay rent"]
