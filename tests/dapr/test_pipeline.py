"""Events through real sidecars and a real broker: the API's outbox -> daprd -> Kafka -> daprd -> the
notifications service's consumers, and their effects back through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import eventually
from tests.dapr.conftest import Stack
from todo.config import Role

pytestmark = [pytest.mark.postgres, pytest.mark.dapr]


async def test_a_task_travels_through_kafka_and_comes_back_as_effects(stack: Stack) -> None:
    api = await stack.start(Role.api)
    await stack.start(Role.notifications)
    async with httpx.AsyncClient(base_url=api.url, timeout=10) as http:
        registered = await http.post(
            "/api/auth/register", json={"email": "dapr@example.com", "password": "password123"}
        )
        auth = {"Authorization": f"Bearer {registered.json()['access_token']}"}
        due = datetime.now(UTC) + timedelta(seconds=3)
        task = (await http.post("/api/tasks", json={"title": "Through Kafka", "due_date": due.isoformat()},
                                headers=auth)).json()  # fmt: skip

        async def reminder_planned() -> bool:  # the schedule consumer ran in the notifications service
            reminders = (await http.get(f"/api/tasks/{task['id']}/reminders", headers=auth)).json()
            return [r["kind"] for r in reminders] == ["due"]

        async def counted() -> bool:  # the analytics consumer too
            return (await http.get("/api/stats", headers=auth)).json()["totals"]["created"] == 1

        async def notified() -> bool:  # its clock fired, the due event went round the broker to the inbox
            return (await http.get("/api/notifications", headers=auth)).json()["total"] == 1

        await eventually(reminder_planned, within=60)  # bounds against hanging, not latency claims
        await eventually(counted, within=30)
        await eventually(notified, within=30)
        [note] = (await http.get("/api/notifications", headers=auth)).json()["items"]
        assert (note["kind"], note["title"], note["task_id"]) == ("due", "Due now: Through Kafka", task["id"])
