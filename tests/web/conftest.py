"""The web UI in front of a real API: page tests through HTTP (in-process), browser tests in Chromium."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.notifications.test_channels import webhooks  # noqa: F401 (a fixture: webhook servers on loopback)
from todo.apps import create_api_app
from todo.bootstrap import Container
from todo.clock import FrozenClock
from todo.web.app import create_web_app
from todo.web.backend import Backend

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """An HTTP client that behaves like a browser with forms: keeps cookies, sends the page's CSRF token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf = ""

    async def get(self, path: str) -> httpx.Response:
        response = await self.http.get(path)
        if match := CSRF.search(response.text):
            self.csrf = match.group(1)
        return response

    async def submit(
        self, path: str, fields: dict[str, str | list[str]] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        data = {**(fields or {}), **({"csrf_token": self.csrf} if csrf else {})}
        return await self.http.post(path, data=data)

    async def sign_up(
        self, email: str = "ada@example.com", timezone: str = "Europe/Berlin"
    ) -> httpx.Response:
        await self.get("/signup")
        response = await self.submit(
            "/signup", {"email": email, "password": "password123", "timezone": timezone}
        )
        assert response.status_code == 303, response.text
        return response


@pytest.fixture
async def browser(container: Container, clock: FrozenClock) -> AsyncIterator[Browser]:
    api_app = create_api_app(container, manage_lifecycle=False)
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=api_app), base_url="http://api")
    web = create_web_app(container.settings, backend=Backend(api), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://web") as http:
        yield Browser(http)
    await api.aclose()
