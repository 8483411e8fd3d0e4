"""The projects pages: making a project, adding to it from the dashboard, sharing it, and what the
second member sees."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.web.conftest import Browser
from todo.apps import create_api_app
from todo.bootstrap import Container
from todo.clock import FrozenClock
from todo.web.app import create_web_app
from todo.web.backend import Backend


@pytest.fixture
async def two(container: Container, clock: FrozenClock) -> AsyncIterator[tuple[Browser, Browser]]:
    """Two people, each with their own browser (cookies), on one web UI and API."""
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_api_app(container, manage_lifecycle=False)),
        base_url="http://api",
    )
    web = create_web_app(container.settings, backend=Backend(api), clock=clock)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://web") as first,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://web") as second,
    ):
        yield Browser(first), Browser(second)
    await api.aclose()


async def test_a_project_made_and_shared_in_the_web_ui_is_seen_by_its_second_member(
    two: tuple[Browser, Browser],
) -> None:
    ada, bo = two
    await ada.sign_up("ada@example.com")
    await bo.sign_up("bo@example.com", timezone="America/New_York")

    await ada.get("/projects")
    made = await ada.submit("/projects", {"name": "Home", "color": "#2e8b57"})
    assert made.status_code == 303
    project_url = made.headers["location"]
    project_id = project_url.rsplit("/", 1)[-1]
    await ada.get("/")
    added = await ada.submit("/tasks", {"title": "Fix the tap tomorrow 18:00", "project_id": project_id})
    assert added.status_code == 303

    await ada.get(project_url)
    unknown = await ada.submit(f"{project_url}/members", {"email": "cy@example.com", "role": "viewer"})
    assert unknown.status_code == 422
    assert "no account has this email" in unknown.text
    shared = await ada.submit(f"{project_url}/members", {"email": "bo@example.com", "role": "viewer"})
    assert shared.status_code == 303

    projects = (await bo.get("/projects")).text
    assert re.search(r'href="/projects/[^"]+">Home</a>', projects)
    assert "viewer" in projects
    listed = (await bo.get(f"/tasks?project_id={project_id}")).text
    assert "Fix the tap" in listed
    assert "Tue 16 Jun, 12:00" in listed  # 18:00 in Berlin is noon in New York (the clock says 15 June)
    dashboard = (await bo.get("/")).text
    assert "Fix the tap" in dashboard
    assert f'<option value="{project_id}"' not in dashboard  # a viewer is not offered it to add to
    page = (await bo.get(project_url)).text
    assert "Leave" in page
    assert "Share with" not in page  # only the owner shares

    left = await bo.submit(f"{project_url}/members/{await _id_of(bo)}/remove")
    assert (left.status_code, left.headers["location"]) == (303, "/projects")
    assert "Fix the tap" not in (await bo.get("/")).text
    assert (await bo.get(project_url)).status_code == 404


async def _id_of(browser: Browser) -> str:
    settings = (await browser.get("/projects")).text
    inbox = re.search(r'data-project-id="([^"]+)"', settings)  # the Inbox comes first, and has the user's id
    assert inbox is not None
    return inbox.group(1)


async def test_projects_are_put_in_the_users_own_order(two: tuple[Browser, Browser]) -> None:
    ada, _ = two
    await ada.sign_up("ada@example.com")
    for name in ("Home", "Work", "Garden"):
        await ada.get("/projects")
        assert (await ada.submit("/projects", {"name": name, "color": "#2e8b57"})).status_code == 303

    def order(page: str) -> list[str]:
        return re.findall(r'<a class="title" href="/projects/[^"]+">([^<]+)</a>', page)

    page = (await ada.get("/projects")).text
    assert order(page) == ["Inbox", "Home", "Work", "Garden"]
    garden = re.findall(r'data-project-id="([^"]+)"', page)[3]
    assert (await ada.submit(f"/projects/{garden}/move", {"direction": "up"})).status_code == 303
    await ada.get("/projects")
    await ada.submit(f"/projects/{garden}/move", {"direction": "up"})
    page = (await ada.get("/projects")).text
    assert order(page) == ["Inbox", "Garden", "Home", "Work"]
    await ada.submit(f"/projects/{garden}/move", {"direction": "up"})  # the Inbox stays first
    assert order((await ada.get("/projects")).text) == ["Inbox", "Garden", "Home", "Work"]
