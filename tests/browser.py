"""Driving Debian's Chromium (Playwright, no browser download): the browser every web UI test uses, and
what a person does on the dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import devstack_tool

# Without the background-networking flags Chromium tries to reach Google's services at every start.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    path = devstack_tool("TODO_TEST_CHROMIUM", "Chromium", "chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def local_input(moment: datetime) -> str:
    """What a person types into the due field (the test user's timezone is the browser's: UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def quick_add(page: Page, title: str, due: datetime | None = None, priority: str = "2") -> None:
    page.get_by_label("New task").fill(title)
    if due is not None:
        page.get_by_role("textbox", name="Due").fill(local_input(due))
    page.get_by_label("Priority").select_option(priority)
    page.get_by_role("button", name="Add").click()
    page.wait_for_load_state()


def desktop_page(chromium: Browser) -> tuple[BrowserContext, Page, list[str]]:
    """A desktop-sized page in UTC, and the console errors and page errors it will collect."""
    context = chromium.new_context(viewport={"width": 1100, "height": 900}, timezone_id="UTC")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page, problems


def sign_up(page: Page, web: str, email: str) -> None:
    """From the web UI's front door to the dashboard, as a new user."""
    page.goto(web)
    expect(page).to_have_url(f"{web}/login")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("password123")
    expect(page.get_by_label("Timezone")).to_have_value("UTC")  # guessed from the browser
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{web}/")
