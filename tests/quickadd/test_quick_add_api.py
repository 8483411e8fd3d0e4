"""POST /api/quick-add and its preview, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.conftest import Register


async def test_the_preview_reads_the_text_and_makes_nothing(
    client: httpx.AsyncClient, register: Register
) -> None:
    auth = await register(timezone="Europe/Berlin")
    text = {"text": "Call mum tomorrow 18:00 #family !1"}
    preview = await client.post("/api/quick-add/preview", json=text, headers=auth)
    assert preview.status_code == 200, preview.text
    said = preview.json()
    assert (said["kind"], said["title"], said["tags"], said["priority"]) == (
        "task",
        "Call mum",
        ["family"],
        1,
    )
    # the frozen clock says 2026-06-15 12:00 UTC: tomorrow at 18:00 in Berlin (summer time) is 16:00 UTC
    assert datetime.fromisoformat(said["due_date"]) == datetime(2026, 6, 16, 16, 0, tzinfo=UTC)
    assert {"words": "tomorrow 18:00", "meaning": "due 2026-06-16T18:00:00+02:00"} in said["understood"]
    assert (await client.get("/api/tasks", headers=auth)).json()["total"] == 0


async def test_a_task_is_made_as_the_preview_said(client: httpx.AsyncClient, register: Register) -> None:
    auth = await register(timezone="Europe/Berlin")
    made = await client.post(
        "/api/quick-add", json={"text": "Dentist next friday at 3pm #health"}, headers=auth
    )
    assert made.status_code == 201, made.text
    assert (made.json()["kind"], made.json()["series"]) == ("task", None)
    task = made.json()["task"]
    assert (task["title"], task["tags"], task["priority"]) == ("Dentist", ["health"], 2)
    assert datetime.fromisoformat(task["due_date"]).astimezone(UTC).hour == 13  # 15:00 CEST
    listed = (await client.get("/api/tasks", headers=auth)).json()
    assert [t["id"] for t in listed["items"]] == [task["id"]]


async def test_a_repeat_makes_a_series_in_the_users_zone(
    client: httpx.AsyncClient, register: Register
) -> None:
    auth = await register(timezone="America/New_York")
    text = {"text": "Pay rent every last day of the month at 9am #home !1"}
    made = await client.post("/api/quick-add", json=text, headers=auth)
    assert made.status_code == 201, made.text
    assert (made.json()["kind"], made.json()["task"]) == ("series", None)
    series = made.json()["series"]
    assert (series["title"], series["tags"], series["priority"]) == ("Pay rent", ["home"], 1)
    assert (series["rrule"], series["recurrence_type"], series["timezone"]) == (
        "BYMONTHDAY=-1;INTERVAL=1;FREQ=MONTHLY", "monthly", "America/New_York"
    )  # fmt: skip
    occurrences = (await client.get(f"/api/recurring-tasks/{series['id']}/occurrences", headers=auth)).json()
    assert occurrences["local"][:2] == ["2026-06-30T09:00:00-04:00", "2026-07-31T09:00:00-04:00"]


async def test_text_that_names_no_task_is_refused_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for text in ("tomorrow 9am", "   ", "x" * 501):
        refused = await client.post("/api/quick-add", json={"text": text}, headers=auth)
        assert refused.status_code == 422, refused.text
        assert [f["field"] for f in refused.json()["error"]["fields"]] == ["text"]
    assert (await client.get("/api/tasks", headers=auth)).json()["total"] == 0


async def test_the_issues_example_makes_a_series_and_its_first_occurrence(
    client: httpx.AsyncClient, register: Register
) -> None:
    auth = await register(timezone="Europe/Berlin")
    text = {"text": "Water the plants every 3 days at 8am #home"}
    preview = (await client.post("/api/quick-add/preview", json=text, headers=auth)).json()
    assert (preview["kind"], preview["title"], preview["rrule"]) == (
        "series",
        "Water the plants",
        "INTERVAL=3;FREQ=DAILY",
    )
    made = await client.post("/api/quick-add", json=text, headers=auth)
    assert made.status_code == 201, made.text
    [occurrence] = (await client.get("/api/tasks", headers=auth)).json()["items"]  # made a day ahead
    assert (occurrence["title"], occurrence["tags"]) == ("Water the plants", ["home"])
    assert occurrence["recurring_task_id"] == made.json()["series"]["id"]
    assert datetime.fromisoformat(occurrence["due_date"]) == datetime(
        2026, 6, 16, 6, 0, tzinfo=UTC
    )  # 08:00 CEST
