"""The web UI on the cluster in Debian's Chromium, as a person on this machine opens it: its Service's
address, pages served by a web UI pod that reaches the API by Dapr service invocation, and a reminder
arriving live through the sidecars (the inbox stream crosses them too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser import desktop_page, quick_add, sign_up
from tests.cluster.conftest import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.browser]


def test_a_person_signs_up_adds_a_task_and_is_reminded_live(chromium: Browser, cluster: Cluster) -> None:
    context, page, problems = desktop_page(chromium)
    sign_up(page, cluster.web_url, f"cluster-{datetime.now(UTC):%H%M%S%f}@example.com")

    quick_add(page, "Water the plants", datetime.now(UTC) + timedelta(hours=1), priority="1")
    expect(page.locator("[data-group=due_soon]").get_by_text("Water the plants")).to_be_visible()

    token = next(c["value"] for c in context.cookies() if c["name"] == "todo_session")
    due = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    created = httpx.post(f"{cluster.api_url}/api/tasks", json={"title": "Stretch your legs", "due_date": due},
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert created.status_code == 201, created.text
    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible(timeout=30_000)
    expect(page.locator(".toast").get_by_text("Due now: Stretch your legs")).to_be_visible()
    assert problems == []
    context.close()
