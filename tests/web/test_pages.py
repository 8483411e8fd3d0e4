"""The web UI's pages through HTTP, in front of the real API (SQLite and PostgreSQL), on a frozen clock:
2026-06-15 12:00 UTC, 14:00 in Berlin where the test user lives."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx

from tests.conftest import announce, eventually, settle
from tests.notifications.test_channels import Webhook
from tests.web.conftest import Browser
from todo.bootstrap import Container
from todo.clock import FrozenClock
from todo.events.envelope import TASK_DUE
from todo.tasks.models import Task


def section(html: str, group: str) -> str:
    """The HTML of one dashboard group."""
    match = re.search(rf'<section class="group[^"]*" [^>]*data-group="{group}">(.*?)</section>', html, re.S)
    assert match, f"no {group} group on the page"
    return match.group(1)


async def add(browser: Browser, title: str, due: str = "", **fields: str) -> httpx.Response:
    return await browser.submit("/tasks", {"title": title, "due": due, "priority": "2", "tags": "", **fields})


async def test_signing_up_signs_in_with_an_httponly_cookie(browser: Browser) -> None:
    response = await browser.sign_up()
    assert response.headers["location"] == "/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("todo_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    dashboard = await browser.get("/")
    assert dashboard.status_code == 200
    assert '<span class="who">ada</span>' in dashboard.text  # the display name defaults to the email's name
    for title in ("Overdue", "Due soon", "Upcoming", "No date", "Today"):
        assert f">{title} <" in dashboard.text


async def test_the_dashboard_groups_tasks_by_due_time_in_the_users_timezone(browser: Browser) -> None:
    await browser.sign_up(timezone="Europe/Berlin")
    await browser.get("/")
    for title, due in [("Call the dentist", "2026-06-15T15:00"), ("Pay the bill", "2026-06-14T09:00"),
                       ("Plan the trip", "2026-06-20T10:00"), ("Read a book", "")]:  # fmt: skip
        assert (await add(browser, title, due)).status_code == 303
    html = (await browser.get("/")).text
    due_soon, overdue = section(html, "due_soon"), section(html, "overdue")
    assert "Call the dentist" in due_soon
    assert "Mon 15 Jun, 15:00" in due_soon  # shown in Berlin time, as typed
    assert "in 1 hour" in due_soon
    assert "Pay the bill" in overdue
    assert "1 day overdue" in overdue
    assert "Plan the trip" in section(html, "upcoming")
    assert "Read a book" in section(html, "none")
    assert 'aria-label="1 tasks"' in section(html, "overdue")


async def test_the_new_task_box_reads_plain_words_and_says_so_as_you_type(browser: Browser) -> None:
    await browser.sign_up(timezone="Europe/Berlin")  # 14:00 there, Monday 15 June
    assert 'data-preview="/quick-add/preview"' in (await browser.get("/")).text
    text = "Call mum tomorrow 18:00 #family !1"
    preview = await browser.submit("/quick-add/preview", {"text": text})
    assert preview.text == "Adds \u201cCall mum\u201d, due Tue 16 Jun, 18:00, #family, high priority."
    unclear = await browser.submit("/quick-add/preview", {"text": "Read every page of the book"})
    assert "kept in the title: \u201cevery page of the book\u201d" in unclear.text
    assert (await add(browser, text)).status_code == 303
    upcoming = section((await browser.get("/")).text, "upcoming")
    assert "Call mum" in upcoming
    assert "tomorrow" not in upcoming  # the words read as the due time left the title
    assert "Tue 16 Jun, 18:00" in upcoming
    assert "#family" in upcoming


async def test_completing_a_task_moves_it_to_done_today_and_back(browser: Browser) -> None:
    await browser.sign_up()
    await browser.get("/")
    await add(browser, "Water the plants", "2026-06-15T18:00")
    html = (await browser.get("/")).text
    task_id = re.search(r'data-task-id="([^"]+)"', section(html, "due_soon"))
    assert task_id
    done = await browser.submit(f"/tasks/{task_id.group(1)}/complete")
    assert done.status_code == 303
    html = (await browser.get("/")).text
    assert "Water the plants" not in section(html, "due_soon")
    assert "Water the plants" in section(html, "done_today")
    await browser.submit(f"/tasks/{task_id.group(1)}/reopen")
    html = (await browser.get("/")).text
    assert "Water the plants" in section(html, "due_soon")


async def test_forms_without_the_csrf_token_are_refused_and_change_nothing(browser: Browser) -> None:
    await browser.sign_up()
    refused = (
        await add(browser, "Sneaky")
        if False
        else await browser.submit("/tasks", {"title": "Sneaky", "priority": "2"}, csrf=False)
    )
    assert refused.status_code == 403
    assert "This form has expired" in refused.text
    wrong = await browser.http.post("/tasks", data={"title": "Sneaky", "csrf_token": "forged"})
    assert wrong.status_code == 403
    assert "Sneaky" not in (await browser.get("/")).text


async def test_a_task_the_api_refuses_is_shown_with_its_reason(browser: Browser) -> None:
    await browser.sign_up()
    await browser.get("/")
    refused = await add(browser, "x" * 201)  # plain words: through quick add
    assert refused.status_code == 422
    assert re.search(
        r'class="alert" role="alert">New task leaves a title longer than 200 characters\.<', refused.text
    )
    refused = await add(browser, "x" * 201, priority="1")  # a field chosen: the title as typed
    assert re.search(r'class="alert" role="alert">Title can have at most 200 characters\.<', refused.text)


async def test_signup_errors_sit_beside_their_fields(browser: Browser) -> None:
    await browser.get("/signup")
    refused = await browser.submit("/signup", {"email": "ada@example.com", "password": "password123",
                                               "timezone": "Europe/Atlantis"})  # fmt: skip
    assert refused.status_code == 422
    assert 'id="timezone-error"' in refused.text
    assert 'value="ada@example.com"' in refused.text  # what was typed stays


async def test_a_wrong_password_says_so(browser: Browser) -> None:
    await browser.sign_up()
    await browser.submit("/logout")
    await browser.get("/login")
    refused = await browser.submit("/login", {"email": "ada@example.com", "password": "not-the-one"})
    assert refused.status_code == 401
    assert "wrong email or password" in refused.text
    signed_in = await browser.submit("/login", {"email": "ada@example.com", "password": "password123"})
    assert signed_in.status_code == 303
    assert (await browser.get("/")).status_code == 200


async def test_visitors_without_a_valid_session_are_sent_to_sign_in(browser: Browser) -> None:
    first = await browser.http.get("/")
    assert (first.status_code, first.headers["location"]) == (303, "/login")
    browser.http.cookies.set("todo_session", "not-a-token")
    forged = await browser.http.get("/")
    assert (forged.status_code, forged.headers["location"]) == (303, "/login")
    assert 'todo_session=""' in forged.headers["set-cookie"]  # the bad cookie is dropped


async def test_pages_carry_security_headers_and_no_inline_script(browser: Browser) -> None:
    await browser.sign_up()
    response = await browser.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert re.findall(r"<script(?![^>]*\bsrc=)", response.text) == []


async def test_the_inbox_lists_notifications_and_marks_them_read(
    browser: Browser, container: Container, clock: FrozenClock
) -> None:
    await browser.sign_up(timezone="UTC")
    await browser.get("/")
    await add(browser, "Submit the report", "2026-06-15T12:30")
    await settle(container)
    clock.advance(timedelta(minutes=30))
    await settle(container)
    inbox = await browser.get("/notifications")
    assert "Submit the report" in inbox.text
    assert 'id="unread-count">1<' in inbox.text
    note_id = re.search(r'action="/notifications/([^/"]+)/read"', inbox.text)
    assert note_id
    await browser.submit(f"/notifications/{note_id.group(1)}/read")
    after = await browser.get("/notifications")
    assert 'id="unread-count">0<' in after.text
    assert f"/notifications/{note_id.group(1)}/read" not in after.text


def series_form(**fields: str) -> dict[str, str]:
    defaults = {"title": "Weekly standup", "recurrence_type": "weekly", "interval": "1",
                "start": "2026-06-15T09:00", "timezone": "Europe/Berlin", "monthly_on": "day"}  # fmt: skip
    return {**defaults, **fields}


async def test_a_series_is_previewed_created_paused_and_deleted(browser: Browser) -> None:
    await browser.sign_up(timezone="Europe/Berlin")
    page = await browser.get("/series")
    assert 'value="2026-06-15T15:00"' in page.text  # starts at the next full hour, Berlin time
    fields = {**series_form(), "csrf_token": browser.csrf}
    preview = await browser.http.post("/series/preview", data={**fields, "weekdays": ["MO", "WE"]})
    assert preview.status_code == 200
    assert re.findall(r"<li><time>([^<]+)</time></li>", preview.text) == [
        "Mon 15 Jun, 09:00", "Wed 17 Jun, 09:00", "Mon 22 Jun, 09:00",
        "Wed 24 Jun, 09:00", "Mon 29 Jun, 09:00",
    ]  # fmt: skip
    assert 'value="MO" checked' in preview.text  # the form keeps what was chosen
    created = await browser.http.post("/series", data={**fields, "weekdays": ["MO", "WE"]})
    assert (created.status_code, created.headers["location"]) == (303, "/series")
    listing = (await browser.get("/series")).text
    assert "every week on Mon, Wed" in listing
    series_id = re.search(r'data-series-id="([^"]+)"', listing)
    assert series_id
    await browser.submit(f"/series/{series_id.group(1)}/pause")
    assert "paused" in (await browser.get("/series")).text
    await browser.submit(f"/series/{series_id.group(1)}/resume")
    assert ">paused<" not in (await browser.get("/series")).text
    await browser.submit(f"/series/{series_id.group(1)}/delete")
    assert "No recurring tasks yet" in (await browser.get("/series")).text


async def test_a_series_the_api_refuses_keeps_the_form_and_names_the_field(browser: Browser) -> None:
    await browser.sign_up()
    await browser.get("/series")
    fields = {**series_form(interval="0"), "csrf_token": browser.csrf}
    refused = await browser.http.post("/series/preview", data=fields)
    assert refused.status_code == 422
    assert 'id="recurrence_interval-error"' in refused.text
    assert 'value="Weekly standup"' in refused.text
    forged = await browser.http.post("/series", data={**fields, "csrf_token": "forged"})
    assert forged.status_code == 403


async def test_settings_change_the_profile_and_say_what_is_wrong(browser: Browser) -> None:
    await browser.sign_up(timezone="UTC")
    await browser.get("/settings")
    saved = await browser.http.post("/settings/profile", data={
        "csrf_token": browser.csrf, "display_name": "Ada L.", "timezone": "Asia/Tokyo",
        "reminder_minutes": ["60", "0"]})  # fmt: skip
    assert (saved.status_code, saved.headers["location"]) == (303, "/settings?saved=profile")
    page = (await browser.get("/settings?saved=profile")).text
    assert 'value="Asia/Tokyo"' in page
    assert '<span class="who">Ada L.</span>' in page
    assert re.search(r'value="60"\s+checked', page)
    assert not re.search(r'value="1440"\s+checked', page)
    refused = await browser.http.post("/settings/profile", data={
        "csrf_token": browser.csrf, "display_name": "Ada", "timezone": "Mars/Olympus"})  # fmt: skip
    assert refused.status_code == 422
    assert 'id="timezone-error"' in refused.text


async def test_quiet_hours_are_set_shown_and_turned_off_in_the_settings(browser: Browser) -> None:
    await browser.sign_up(timezone="Europe/Berlin")
    await browser.get("/settings")
    night = {
        "display_name": "Ada",
        "timezone": "Europe/Berlin",
        "quiet_from": "22:00",
        "quiet_until": "07:00",
    }
    assert (await browser.submit("/settings/profile", night)).status_code == 303
    page = (await browser.get("/settings")).text
    assert 'name="quiet_from" type="time" value="22:00"' in page
    assert 'name="quiet_until" type="time" value="07:00"' in page
    half = await browser.submit("/settings/profile", {**night, "quiet_until": ""})
    assert half.status_code == 422
    assert re.search(r'class="field-error">Until [^<]+\.<', half.text)  # the missing end, said beside it
    off = await browser.submit("/settings/profile", {**night, "quiet_from": "", "quiet_until": ""})
    assert off.status_code == 303
    assert 'name="quiet_from" type="time" value=""' in (await browser.get("/settings")).text


async def test_a_calendar_feed_is_made_shown_served_here_and_revoked(browser: Browser) -> None:
    await browser.sign_up()
    await browser.get("/")
    await add(browser, "Pay rent", "2026-07-01T09:00")
    await browser.get("/settings")
    made = await browser.submit("/settings/calendar")
    assert (made.status_code, made.headers["location"]) == (303, "/settings?saved=calendar#calendar")
    page = (await browser.get("/settings")).text
    shown = re.search(r'<code id="calendar-url">http://web(/calendar/[^<]+\.ics)</code>', page)
    assert shown, "the URL is the web UI's own"
    assert "No calendar has read it yet." in page
    stranger = httpx.AsyncClient(transport=browser.http._transport, base_url="http://web")  # no cookie
    async with stranger:
        feed = await stranger.get(shown.group(1))
        assert (feed.status_code, feed.headers["content-type"]) == (200, "text/calendar; charset=utf-8")
        assert b"SUMMARY:Pay rent" in feed.content
        page = (await browser.get("/settings")).text
        assert "A calendar last read it Mon 15 Jun, 14:00." in page
        assert shown.group(1) in page  # shown again, to subscribe from another device
        await browser.submit("/settings/calendar/revoke")
        assert (await stranger.get(shown.group(1))).status_code == 404
    assert "Make a feed URL" in (await browser.get("/settings")).text


async def test_channels_are_added_tested_and_removed(browser: Browser, webhooks: list[Webhook]) -> None:
    await browser.sign_up()
    await browser.get("/settings")
    unknown = await browser.submit("/settings/channels/add", {"label": "Nope", "url": "nosuch://x"})
    assert unknown.status_code == 422
    assert 'id="url-error"' in unknown.text
    assert 'value="nosuch://x"' in unknown.text  # kept for correcting
    for label, hook in (("Works", webhooks[0]), ("Refuses", webhooks[1])):
        added = await browser.submit("/settings/channels/add", {"label": label, "url": hook.url})
        assert added.status_code == 303
    tested = await browser.submit("/settings/channels/test")
    assert tested.status_code == 200
    assert re.search(r'class="ok" role="status">Sent<', tested.text)
    assert re.search(r'class="failed" role="status">Failed: [^<]+<', tested.text)
    assert len(webhooks[0].received) == 1
    page = (await browser.get("/settings")).text
    first = re.search(r'action="/settings/channels/([^/"]+)/remove"', page)
    assert first
    await browser.submit(f"/settings/channels/{first.group(1)}/remove")
    after = (await browser.get("/settings")).text
    assert after.count('/remove"') == 1


async def test_the_task_list_filters_sorts_and_pages(browser: Browser) -> None:
    await browser.sign_up(timezone="UTC")
    await browser.get("/")
    await add(browser, "Write the report", "2026-06-15T18:00", tags="work")
    await add(browser, "Pay rent", "2026-06-14T09:00", priority="1")
    await add(browser, "Buy milk")
    work = (await browser.get("/tasks?tag=work")).text
    assert "Write the report" in work
    assert "Buy milk" not in work
    overdue = (await browser.get("/tasks?due_state=overdue")).text
    assert "Pay rent" in overdue
    assert "Write the report" not in overdue
    by_due = (await browser.get("/tasks?sort=due_date&status=open")).text
    assert by_due.index("Pay rent") < by_due.index("Write the report") < by_due.index("Buy milk")
    assert "Buy milk" in (await browser.get("/tasks?q=milk")).text
    refused = await browser.get("/tasks?priority=9")
    assert refused.status_code == 200
    assert re.search(r'role="alert">Priority must be [^<]+\.<', refused.text)  # the API's reason, no crash


async def test_a_task_is_edited_reminded_snoozed_and_deleted(
    browser: Browser, container: Container, clock: FrozenClock
) -> None:
    await browser.sign_up(timezone="Europe/Berlin")
    await browser.get("/")
    await add(browser, "Write the report")
    listing = (await browser.get("/tasks")).text
    task_id = re.search(r'data-task-id="([^"]+)"', listing)
    assert task_id
    edit_url = f"/tasks/{task_id.group(1)}"
    form = (await browser.get(edit_url)).text
    assert 'value="Write the report"' in form
    saved = await browser.http.post(edit_url, data={
        "csrf_token": browser.csrf, "title": "Write the Q2 report", "description": "numbers",
        "due": "2026-06-15T20:00", "priority": "1", "tags": "work, q2",
        "reminder_minutes": ["60"]})  # fmt: skip
    assert (saved.status_code, saved.headers["location"]) == (303, f"{edit_url}?saved=1")
    await settle(container)
    page = (await browser.get(edit_url)).text
    assert 'value="Write the Q2 report"' in page
    assert 'value="2026-06-15T20:00"' in page  # Berlin wall time, as typed
    assert re.search(r"<strong>1 hour before</strong> <time[^>]*>Mon 15 Jun, 19:00</time>", page)
    tomorrow_morning = re.search(r'<option value="(at:[^"]+)">Tomorrow morning, Tue 16 Jun, 09:00<', page)
    assert tomorrow_morning
    snoozed = await browser.submit(f"{edit_url}/snooze", {"when": tomorrow_morning.group(1)})
    assert snoozed.status_code == 303
    await settle(container)
    assert re.search(
        r"<strong>snoozed</strong> <time[^>]*>Tue 16 Jun, 09:00</time>", (await browser.get(edit_url)).text
    )
    assert (await browser.submit(f"{edit_url}/snooze", {"when": "60"})).status_code == 303
    refused = await browser.http.post(
        edit_url, data={"csrf_token": browser.csrf, "title": "", "priority": "2"}
    )
    assert refused.status_code == 422
    assert "title" in refused.text
    await browser.submit(f"{edit_url}/delete")
    gone = await browser.get(edit_url)
    assert gone.status_code == 404
    assert "not found" in gone.text


async def test_insights_draw_the_days_and_the_streak(browser: Browser) -> None:
    await browser.sign_up(timezone="UTC")
    await browser.get("/")
    await add(browser, "One")
    await add(browser, "Two")
    listing = (await browser.get("/tasks")).text
    first = re.search(r'data-task-id="([^"]+)"', listing)
    assert first
    await browser.submit(f"/tasks/{first.group(1)}/complete")
    page = ""

    async def completion_counted() -> bool:  # the analytics projection follows the events: eventually
        nonlocal page
        page = (await browser.get("/insights?days=7")).text
        return "<title>Mon 15 Jun: 1 completed</title>" in page

    await eventually(completion_counted)
    assert re.search(r'id="current-streak">1 day<', page)
    assert "<title>Mon 15 Jun: 2 created</title>" in page
    assert "<title>Mon 15 Jun: 1 completed</title>" in page
    assert len(re.findall(r'<rect class="bar-', page)) == 14  # two bars for each of 7 days
    assert 'aria-current="page">7 days<' in page


async def test_a_series_is_edited_in_its_own_words(browser: Browser) -> None:
    await browser.sign_up(timezone="Europe/Berlin")
    await browser.get("/series")
    fields = {**series_form(end="2026-12-31T09:00"), "csrf_token": browser.csrf}
    await browser.http.post("/series", data={**fields, "weekdays": ["MO", "WE"]})
    series_id = re.search(r'data-series-id="([^"]+)"', (await browser.get("/series")).text)
    assert series_id
    edit = (await browser.get(f"/series/{series_id.group(1)}")).text
    assert "Edit “Weekly standup”" in edit
    assert 'value="2026-06-15T09:00"' in edit  # the start in the series' own timezone
    assert 'value="2026-12-31T09:00"' in edit
    assert re.search(r'value="MO"\s+checked', edit)
    assert re.search(r'value="WE"\s+checked', edit)
    changed = {**series_form(title="Team review", recurrence_type="monthly", monthly_on="-1 FR"),
               "csrf_token": browser.csrf}  # fmt: skip
    saved = await browser.http.post(f"/series/{series_id.group(1)}", data=changed)
    assert (saved.status_code, saved.headers["location"]) == (303, "/series")
    listing = (await browser.get("/series")).text
    assert "Team review" in listing
    assert "every month on the last Fri" in listing
    again = (await browser.get(f"/series/{series_id.group(1)}")).text
    assert 'value="2026-12-31T09:00"' not in again  # the end date was cleared: the form sent none
    assert re.search(r'value="-1 FR"\s+selected', again)


async def test_the_reminder_boxes_show_what_is_planned_and_a_change_to_them_is_kept(
    browser: Browser, container: Container
) -> None:
    """A task that follows the user's defaults shows them ticked; ticking one more box (nothing else)
    gives the task its own reminders; saving without touching them keeps following the defaults."""
    await browser.sign_up(timezone="Europe/Berlin")
    await browser.get("/")
    await add(browser, "Renew the passport", "2026-06-20T10:00")
    task_id = re.search(r'data-task-id="([^"]+)"', (await browser.get("/tasks")).text)
    assert task_id
    edit_url = f"/tasks/{task_id.group(1)}"

    def ticked(html: str) -> set[str]:
        return set(re.findall(r'name="reminder_minutes" value="(\d+)"\s+checked', html))

    form = (await browser.get(edit_url)).text
    assert ticked(form) == {"1440", "0"}  # the defaults: a day before and at the due time
    fields = {
        "title": "Renew the passport",
        "due": "2026-06-20T10:00",
        "priority": "2",
        "follows_defaults": "yes",
    }
    untouched = await browser.submit(edit_url, {**fields, "reminder_minutes": ["1440", "0"]})
    assert untouched.status_code == 303
    async with container.sessions() as session:
        row = await session.get(Task, uuid.UUID(task_id.group(1)))
        assert row is not None
        assert row.reminder_minutes is None  # still following the defaults
    changed = await browser.submit(edit_url, {**fields, "reminder_minutes": ["1440", "60", "0"]})
    assert changed.status_code == 303
    await settle(container)
    page = (await browser.get(edit_url)).text
    assert ticked(page) == {"1440", "60", "0"}
    assert "this task's own" in page


async def test_time_zones_are_offered_to_pick_and_taken_in_any_case(browser: Browser) -> None:
    await browser.get("/signup")
    signup = (await browser.get("/signup")).text
    assert 'list="timezones"' in signup
    assert '<option value="Europe/Berlin">' in signup
    await browser.sign_up(timezone="america/new_york")
    page = (await browser.get("/settings")).text
    assert 'value="America/New_York"' in page  # stored as IANA spells it
    assert '<option value="Asia/Tokyo">' in page
    saved = await browser.submit("/settings/profile", {"display_name": "Ada", "timezone": "ASIA/TOKYO"})
    assert saved.status_code == 303
    assert 'value="Asia/Tokyo"' in (await browser.get("/settings")).text
    assert '<option value="Europe/Paris">' in (await browser.get("/series")).text


async def test_signing_in_from_a_link_lands_on_the_page_it_led_to(browser: Browser) -> None:
    await browser.sign_up()
    await browser.get("/")
    await add(browser, "Renew the passport")
    task_path = "/tasks/" + re.findall(r'data-task-id="([^"]+)"', (await browser.get("/tasks")).text)[0]
    await browser.submit("/logout")
    sent_away = await browser.http.get(task_path)
    assert (sent_away.status_code, sent_away.headers["location"]) == (
        303,
        f"/login?next=%2Ftasks%2F{task_path[7:]}",
    )
    form = (await browser.get(sent_away.headers["location"])).text
    assert f'name="next" value="{task_path}"' in form
    signed_in = await browser.submit("/login", {"email": "ada@example.com", "password": "password123",
                                                "next": task_path})  # fmt: skip
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, task_path)
    await browser.submit("/logout")
    await browser.get("/login")
    elsewhere = await browser.submit("/login", {"email": "ada@example.com", "password": "password123",
                                                "next": "//evil.example/steal"})  # fmt: skip
    assert elsewhere.headers["location"] == "/"  # never to another site


async def test_tags_filter_and_the_task_page_completes(browser: Browser) -> None:
    await browser.sign_up()
    await browser.get("/")
    await add(browser, "Write the report", tags="work")
    await add(browser, "Water the plants", tags="home")
    listing = (await browser.get("/tasks")).text
    assert '<a class="tag" href="/tasks?tag=work">#work</a>' in listing
    as_typed = (await browser.get("/tasks?tag=%23work")).text  # "#work", as the tag is shown
    assert "Write the report" in as_typed
    assert "Water the plants" not in as_typed
    task_path = "/tasks/" + re.findall(r'data-task-id="([^"]+)"', as_typed)[0]
    page = (await browser.get(task_path)).text
    assert f'action="{task_path}/complete"' in page
    done = await browser.http.post(f"{task_path}/complete", data={"csrf_token": browser.csrf},
                                   headers={"referer": f"http://web{task_path}"})  # fmt: skip
    assert done.headers["location"].startswith(f"{task_path}?completed=")
    page = (await browser.get(done.headers["location"])).text
    assert "Task completed." in page
    assert f'action="{task_path}/reopen"' in page


async def test_a_series_carries_its_priority_and_tags_to_its_occurrences(browser: Browser) -> None:
    await browser.sign_up(timezone="Europe/Berlin")
    await browser.get("/series")
    fields = {
        **series_form(title="Take the pills", recurrence_type="daily", priority="1", tags="health, home")
    }
    created = await browser.submit("/series", fields)
    assert created.status_code == 303, created.text
    listing = (await browser.get("/series")).text
    series_id = re.search(r'data-series-id="([^"]+)"', listing)
    assert series_id
    form = (await browser.get(f"/series/{series_id.group(1)}")).text
    assert re.search(r'<option value="1"\s+selected>High</option>', form)
    assert 'value="health, home"' in form
    # today's 09:00 occurrence exists already (it is 14:00 in Berlin): it carries both
    tasks = (await browser.get("/tasks?tag=health")).text
    assert "Take the pills" in tasks
    assert re.search(r'<li class="task prio-high[^"]*"[^>]*>(?:(?!</li>).)*Take the pills', tasks, re.S)


async def test_settings_show_how_each_channel_answered_last(
    browser: Browser, container: Container, webhooks: list[Webhook]
) -> None:
    await browser.sign_up()
    await browser.get("/settings")
    for label, hook in (("Works", webhooks[0]), ("Refuses", webhooks[1])):
        await browser.submit("/settings/channels/add", {"label": label, "url": hook.url})
    assert (await browser.get("/settings")).text.count("Nothing sent yet.") == 2
    await add(browser, "Pay rent", "2026-06-15T18:00")
    task_id = re.findall(r'data-task-id="([^"]+)"', (await browser.get("/tasks")).text)[0]
    await announce(container, TASK_DUE, task_id)
    await settle(container)
    page = (await browser.get("/settings")).text
    assert "Last sent Mon 15 Jun, 14:00." in page  # Berlin time
    assert re.search(r"Last try Mon 15 Jun, 14:00 failed: [^<]*503", page)
