"""The web UI in a real headless Chromium (Debian's, driven by Playwright) against a real `todo up`.

Screenshots of the main pages go to $TODO_SCREENSHOTS_DIR (default build/screenshots; `make screenshots`
writes the README's copies in docs/screenshots)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.browser import desktop_page, local_input, quick_add, sign_up
from tests.test_cli import start, stop
from todo.platform.ports import free_port

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real all-in-one: (web UI, API)."""
    api_port, web_port = free_port(), free_port()
    process = start(tmp_path_factory.mktemp("todo-up"), api_port, web_port)
    try:
        yield f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{api_port}"
    finally:
        stop(process)


def shoot(page: Page, name: str) -> None:
    folder = Path(os.environ.get("TODO_SCREENSHOTS_DIR", ROOT / "build" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_a_new_user_plans_a_day(chromium: Browser, app_url: tuple[str, str]) -> None:
    web, api = app_url
    context, page, problems = desktop_page(chromium)
    sign_up(page, web, "grace@example.com")

    now = datetime.now(UTC)
    quick_add(page, "Call the dentist", now + timedelta(hours=1), priority="1")
    quick_add(page, "Pay the electricity bill", now - timedelta(days=1))
    quick_add(page, "Plan the trip", now + timedelta(days=3))
    quick_add(page, "Read a book")
    due_soon, overdue = page.locator("[data-group=due_soon]"), page.locator("[data-group=overdue]")
    expect(due_soon.get_by_text("Call the dentist")).to_be_visible()
    # an hour ahead, to the minute the form takes: 59 minutes, or fewer if a minute turned meanwhile
    expect(due_soon.get_by_text(re.compile(r"in 5\d minutes"))).to_be_visible()
    expect(overdue.get_by_text("Pay the electricity bill")).to_be_visible()
    expect(overdue.get_by_text("1 day overdue")).to_be_visible()
    expect(page.locator("[data-group=upcoming]").get_by_text("Plan the trip")).to_be_visible()
    shoot(page, "dashboard")

    page.get_by_role("button", name="Complete “Pay the electricity bill”").click()
    expect(page.locator("[data-group=done_today]").get_by_text("Pay the electricity bill")).to_be_visible()
    expect(overdue.get_by_text("Nothing here.")).to_be_visible()

    page.get_by_role("link", name="Recurring").click()
    page.get_by_label("Title").fill("Weekly standup")
    page.get_by_label("Repeats").select_option("weekly")
    page.get_by_label("Mon", exact=True).check()
    page.get_by_label("Wed", exact=True).check()
    page.get_by_role("button", name="Preview the next five").click()
    expect(page.locator("#preview li")).to_have_count(5)
    weekdays = {text.split()[0] for text in page.locator("#preview li").all_inner_texts()}
    assert weekdays == {"Mon", "Wed"}
    shoot(page, "series")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("every week on Mon, Wed")).to_be_visible()
    page.get_by_role("link", name="Dashboard").click()

    # A task due in a few seconds, added elsewhere (the API, with this browser's session): its reminder
    # arrives here live, without a reload.
    token = next(c["value"] for c in context.cookies() if c["name"] == "todo_session")
    due = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    created = httpx.post(f"{api}/api/tasks", json={"title": "Stretch your legs", "due_date": due},
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert created.status_code == 201, created.text
    # at least this one: the dentist's reminder (an hour ahead, its lead an hour) may come at any moment too
    bell = page.get_by_role("link", name=re.compile(r"Notifications, [1-9]\d* unread"))
    expect(bell).to_be_visible(timeout=30_000)
    expect(page.locator(".toast").get_by_text("Due now: Stretch your legs")).to_be_visible()

    bell.click()
    expect(page.locator("#inbox").get_by_text("Due now: Stretch your legs")).to_be_visible()
    shoot(page, "notifications")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(web)
    expect(page.get_by_label("New task")).to_be_visible()
    shoot(page, "dashboard-phone")
    assert problems == []
    context.close()


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML)"""


def test_every_page_labels_its_controls_and_starts_with_a_skip_link(
    chromium: Browser, app_url: tuple[str, str]
) -> None:
    web, _ = app_url
    context = chromium.new_context(viewport={"width": 390, "height": 844}, timezone_id="Europe/Berlin")
    page = context.new_page()
    page.goto(f"{web}/signup")
    expect(page.get_by_label("Timezone")).to_have_value("Europe/Berlin")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill("password123")
    page.keyboard.press("Enter")  # the form submits from the keyboard
    expect(page).to_have_url(f"{web}/")
    quick_add(page, "Something to edit")
    task_url = page.get_by_role("link", name="Something to edit").get_attribute("href")
    project_path = make_project(page, web, "Garden")
    paths = ("/", "/tasks", str(task_url), "/series", "/notifications", "/insights", "/settings", "/projects")
    for path in (*paths, project_path):
        page.goto(f"{web}{path}")
        assert page.evaluate(UNLABELLED) == [], path
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content", path
    context.close()


def make_project(page: Page, web: str, name: str) -> str:
    """A new project made on the projects page; its page's path."""
    page.goto(f"{web}/projects")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(rf"{web}/projects/[0-9a-f-]+$"))
    return page.url.removeprefix(web)


def test_a_shared_project_is_seen_by_its_second_member(chromium: Browser, app_url: tuple[str, str]) -> None:
    web, _ = app_url
    owner_context, owner, problems = desktop_page(chromium)
    member_context, member, member_problems = desktop_page(chromium)
    sign_up(member, web, "hal@example.com")
    sign_up(owner, web, "ivy@example.com")
    project_path = make_project(owner, web, "Garden")
    owner.get_by_label("Share with (their account's email)").fill("hal@example.com")
    owner.get_by_label("As").select_option("viewer")
    owner.get_by_role("button", name="Share").click()
    expect(owner.locator("#members").get_by_text("hal@example.com")).to_be_visible()
    shoot(owner, "project")
    owner.goto(web)
    owner.get_by_label("Project").select_option(label="Garden")
    owner.get_by_label("New task").fill("Prune the roses tomorrow 9am")
    owner.get_by_role("button", name="Add").click()
    expect(owner.get_by_role("link", name="Prune the roses")).to_be_visible()

    member.get_by_role("link", name="Projects").click()
    member.get_by_role("link", name="Garden").click()
    expect(member).to_have_url(f"{web}{project_path}")
    expect(member.get_by_text("you are its viewer")).to_be_visible()
    member.get_by_role("link", name="Its tasks").click()
    expect(member.get_by_role("link", name="Prune the roses")).to_be_visible()
    shoot(member, "tasks-of-a-shared-project")
    member.goto(web)
    expect(
        member.locator("[data-group=upcoming], [data-group=due_soon]").get_by_text("Prune the roses")
    ).to_be_visible()
    assert problems == member_problems == []
    owner_context.close()
    member_context.close()


def sign_in(context: BrowserContext, web: str, email: str, password: str = "password123") -> Page:
    page = context.new_page()
    page.goto(f"{web}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{web}/")
    return page


def session_cookie(context: BrowserContext) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "todo_session")


def test_signing_out_ends_the_session_on_the_server(chromium: Browser, app_url: tuple[str, str]) -> None:
    """A copy of the cookie taken before sign-out opens nothing afterwards; a password change signs out
    every other device; "Sign out everywhere" signs out this one too."""
    web, api = app_url
    laptop, page, problems = desktop_page(chromium)
    sign_up(page, web, "leaves@example.com")
    copied = session_cookie(laptop)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{web}/login")
    thief = chromium.new_context()
    thief.add_cookies([{"name": "todo_session", "value": copied, "url": web}])
    stale = thief.new_page()
    stale.goto(f"{web}/tasks")
    expect(stale).to_have_url(f"{web}/login?next=%2Ftasks")
    assert httpx.get(f"{api}/api/tasks", headers={"Authorization": f"Bearer {copied}"}).status_code == 401
    thief.close()

    page = sign_in(laptop, web, "leaves@example.com")
    phone = chromium.new_context(viewport={"width": 390, "height": 844})
    on_phone = sign_in(phone, web, "leaves@example.com")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password").fill("a longer secret")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#current-password-error")).to_have_text("Current password is wrong.")
    page.get_by_label("Current password").fill("password123")
    page.get_by_label("New password").fill("a longer secret")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed. Every other device was signed out.")).to_be_visible()
    on_phone.goto(f"{web}/tasks")
    expect(on_phone).to_have_url(f"{web}/login?next=%2Ftasks")  # the phone was signed out
    page.goto(f"{web}/tasks")
    expect(page).to_have_url(f"{web}/tasks")  # this one was not

    on_phone = sign_in(phone, web, "leaves@example.com", "a longer secret")
    page.goto(f"{web}/settings")
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page).to_have_url(f"{web}/login")
    on_phone.goto(f"{web}/tasks")
    expect(on_phone).to_have_url(f"{web}/login?next=%2Ftasks")
    assert problems == []
    phone.close()
    laptop.close()


def test_the_api_docs_render_without_the_internet(chromium: Browser, app_url: tuple[str, str]) -> None:
    """Swagger UI draws the API's operations while every request off this machine is refused."""
    _, api = app_url
    context = chromium.new_context()
    refused: list[str] = []

    def only_loopback(route: Route) -> None:
        if route.request.url.startswith(("http://127.0.0.1", "http://localhost")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.goto(f"{api}/docs")
    expect(page.get_by_text("/api/tasks/{task_id}").first).to_be_visible()
    assert refused == []
    context.close()


SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_no_page_scrolls_sideways_from_phone_to_desktop(chromium: Browser, app_url: tuple[str, str]) -> None:
    """At 320, 390, 768 and 1280 px, signed in and out, with a 200-character title that has no break:
    every page fits its width (how many pixels each one sticks out, when any does)."""
    web, _ = app_url
    context, page, problems = desktop_page(chromium)
    sign_up(page, web, "narrow@example.com")
    unbroken = "Supercalifragilistic" * 10
    quick_add(page, unbroken, datetime.now(UTC) + timedelta(hours=2))
    quick_add(page, "Renew the passport", datetime.now(UTC) - timedelta(days=1))
    task_path = str(page.get_by_role("link", name=unbroken).get_attribute("href"))
    page.goto(f"{web}/series")
    page.get_by_label("Title").fill("Water the plants on the balcony")
    page.get_by_label("Repeats").select_option("weekly")
    page.get_by_label("Mon", exact=True).check()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("every week on Mon")).to_be_visible()
    project_path = make_project(page, web, unbroken[:100])
    visitor = chromium.new_context().new_page()
    signed_in = ("/", "/tasks", task_path, "/series", "/notifications", "/insights", "/settings", "/projects",
                 project_path)  # fmt: skip
    pages = [(page, path) for path in signed_in] + [(visitor, "/login"), (visitor, "/signup")]
    sticking_out = {}
    for width in (320, 390, 768, 1280):
        for tab, path in pages:
            tab.set_viewport_size({"width": width, "height": 800})
            tab.goto(f"{web}{path}")
            tab.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true })")
            if (extra := tab.evaluate(SIDEWAYS)) > 0:
                sticking_out[f"{path} at {width} px"] = extra
    assert sticking_out == {}
    assert problems == []
    visitor.context.close()
    context.close()


def test_the_dashboard_and_the_inbox_keep_themselves_current(
    chromium: Browser, app_url: tuple[str, str]
) -> None:
    """A task moves from "Due soon" to "Overdue" when its time comes, without a reload; a notification
    that arrives while the inbox is open links to its task and can be marked read."""
    web, api = app_url
    context, page, problems = desktop_page(chromium)
    sign_up(page, web, "current@example.com")
    auth = {"Authorization": f"Bearer {session_cookie(context)}"}

    def task_due_in(seconds: int, title: str) -> str:
        due = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
        created = httpx.post(f"{api}/api/tasks", json={"title": title, "due_date": due}, headers=auth)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    task_due_in(5, "Take the bread out")
    page.reload()
    expect(page.locator("[data-group=due_soon]").get_by_text("Take the bread out")).to_be_visible()
    overdue = page.locator("[data-group=overdue]").get_by_text("Take the bread out")
    expect(overdue).to_be_visible(timeout=40_000)  # no reload: the page fetched its groups again

    page.get_by_role("link", name="Notifications, 1 unread").click()
    task_id = task_due_in(3, "Feed the cat")
    item = page.locator("#inbox li", has_text="Due now: Feed the cat")
    expect(item.get_by_role("link", name="Due now: Feed the cat")).to_have_attribute(
        "href", f"/tasks/{task_id}", timeout=30_000
    )
    item.get_by_role("button", name="Mark read").click()
    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()  # the bread's, still
    assert problems == []
    context.close()


def test_quick_add_keeps_the_cursor_completing_can_be_undone_and_deleting_asks_first(
    chromium: Browser, app_url: tuple[str, str]
) -> None:
    web, _ = app_url
    context, page, problems = desktop_page(chromium)
    sign_up(page, web, "undo@example.com")
    quick_add(page, "Buy stamps")
    title_box = page.get_by_label("New task")
    expect(title_box).to_be_focused()
    page.keyboard.type("Post the letter")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Post the letter")).to_be_visible()
    expect(title_box).to_be_focused()  # one task after another, no Tabs back
    page.keyboard.type("Water the plants tomorrow 9am #home !1")
    preview = page.locator("#qa-preview")  # what will be added, said while typing
    expect(preview).to_contain_text("Adds \u201cWater the plants\u201d, due ")
    expect(preview).to_contain_text(", 09:00, #home, high priority.")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Water the plants")).to_be_visible()

    page.get_by_role("button", name="Complete “Buy stamps”").click()
    expect(page.get_by_text("Task completed.")).to_be_visible()
    expect(page.locator("[data-group=done_today]").get_by_text("Buy stamps")).to_be_visible()
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("[data-group=none]").get_by_text("Buy stamps")).to_be_visible()
    expect(page.get_by_text("Task completed.")).to_have_count(0)

    page.get_by_role("link", name="Buy stamps").click()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete this task").click()
    expect(page.get_by_role("button", name="Delete this task")).to_be_visible()  # kept: the answer was no
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete this task").click()
    expect(page).to_have_url(f"{web}/tasks")
    assert asked == ["Delete “Buy stamps”? This cannot be undone."]
    expect(page.get_by_role("link", name="Buy stamps")).to_have_count(0)
    assert problems == []
    context.close()


def test_the_recurring_form_offers_what_applies_to_the_frequency(
    chromium: Browser, app_url: tuple[str, str]
) -> None:
    web, _ = app_url
    context, page, problems = desktop_page(chromium)
    sign_up(page, web, "rent@example.com")
    page.get_by_role("link", name="Recurring").click()
    weekdays, monthly = page.locator("fieldset.weekdays"), page.get_by_label("Monthly")
    page.get_by_label("Repeats").select_option("daily")
    expect(weekdays).to_be_hidden()
    expect(monthly).to_be_hidden()
    page.get_by_label("Repeats").select_option("weekly")
    expect(weekdays).to_be_visible()
    expect(monthly).to_be_hidden()
    page.get_by_label("Repeats").select_option("monthly")
    expect(weekdays).to_be_hidden()
    monthly.select_option("last-day")
    page.get_by_label("Title").fill("Pay rent")
    page.get_by_label("Starts").fill("2027-01-31T09:00")
    starts = page.get_by_label("Starts").bounding_box()
    assert starts is not None
    assert starts["width"] >= 220  # wide enough for the date and the time (it was cut off at 200 px)
    page.get_by_role("button", name="Preview the next five").click()
    days = [text.split(",")[0] for text in page.locator("#preview li").all_inner_texts()]
    assert days == ["Sun 31 Jan", "Sun 28 Feb", "Wed 31 Mar", "Fri 30 Apr", "Mon 31 May"]
    assert problems == []
    context.close()


def test_tomorrows_occurrence_is_in_view_with_its_reminder(
    chromium: Browser, app_url: tuple[str, str]
) -> None:
    """A daily series set up the evening before: tomorrow's occurrence is on the dashboard at once, due
    soon, and its task page plans the reminder at its due time."""
    web, _ = app_url
    context, page, problems = desktop_page(chromium)
    sign_up(page, web, "medication@example.com")
    first = (datetime.now(UTC) + timedelta(hours=12)).replace(second=0, microsecond=0)
    page.get_by_role("link", name="Recurring").click()
    page.get_by_label("Title").fill("Take medication")
    page.get_by_label("Repeats").select_option("daily")
    page.get_by_label("Starts").fill(local_input(first))
    page.get_by_role("button", name="Create").click()
    page.get_by_role("link", name="Dashboard").click()
    occurrence = page.locator("[data-group=due_soon]").get_by_role("link", name="Take medication")
    expect(occurrence).to_be_visible()
    occurrence.click()
    planned = page.locator("#reminders")
    deadline = time.monotonic() + 30  # the schedule is planned from the occurrence's event: wait, bounded
    while not planned.is_visible():
        assert time.monotonic() < deadline, "no reminder was planned"
        page.reload()
    expect(planned.get_by_text("at the due time")).to_be_visible()
    assert problems == []
    context.close()
