"""The pages. Each reads and writes through the backend's API with the signed-in user's token; a form
that the API refuses is shown again with the API's reasons beside its fields."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import httpx
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel

from todo.clock import Clock
from todo.web import present
from todo.web.backend import Backend, BackendError
from todo.web.chart import daily_chart
from todo.web.pages import Page, SignedIn, by_field, page, sentence, signed_in
from todo.web.series_form import FREQUENCIES, WEEKDAYS, SeriesForm, describe, monthly_choices
from todo.web.session import check_csrf, session_token, sign_in, sign_out

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str | None, Form(alias="csrf_token")]


async def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


BackendDep = Annotated[Backend, Depends(_backend)]
UserDep = Annotated[SignedIn, Depends(signed_in)]


def _now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


def _back(to: str = "/") -> RedirectResponse:
    return RedirectResponse(to, status_code=303)


# --- signing up, in and out -------------------------------------------------------------------------


@router.get("/login")
async def login_form(request: Request) -> Response:
    return page(request, "login.html", Page(title="Sign in"))


class Credentials(BaseModel):
    csrf_token: str = ""
    email: str = ""
    password: str = ""
    timezone: str = "UTC"  # sign-up only
    next: str = ""  # sign-in only: the page that sent the browser here


def _local_path(wanted: str) -> str:
    """`wanted` if it is a page of this site (never another host's, as `//evil.example` would be)."""
    return wanted if wanted.startswith("/") and not wanted.startswith(("//", "/\\")) else "/"


CredentialsForm = Annotated[Credentials, Form()]


@router.post("/login")
async def login(request: Request, backend: BackendDep, form: CredentialsForm) -> Response:
    check_csrf(request, form.csrf_token)
    retry = Page(title="Sign in", form={"email": form.email, "next": form.next})
    fields = {"email": form.email, "password": form.password}
    then = _local_path(form.next)
    return await _sign_in_through(request, backend, "/api/auth/login", fields, "login.html", retry, then)


@router.get("/signup")
async def signup_form(request: Request) -> Response:
    return page(request, "signup.html", Page(title="Create your account"))


@router.post("/signup")
async def signup(request: Request, backend: BackendDep, form: CredentialsForm) -> Response:
    check_csrf(request, form.csrf_token)
    fields = {"email": form.email, "password": form.password, "timezone": form.timezone or "UTC"}
    retry = Page(title="Create your account", form={"email": form.email, "timezone": form.timezone})
    return await _sign_in_through(request, backend, "/api/auth/register", fields, "signup.html", retry)


async def _sign_in_through(
    request: Request,
    backend: Backend,
    path: str,
    fields: dict[str, str],
    template: str,
    retry: Page,
    then: str = "/",
) -> Response:
    """Sign in with the token `path` answers; if it refuses, show the form again with its reasons."""
    try:
        answer = await backend.call("POST", path, json=fields, client=_client(request))
    except BackendError as exc:
        retry.error, retry.field_errors = exc.message, by_field(exc)
        return page(request, template, retry, status=exc.status if exc.status in (401, 422, 429) else 400)
    token = answer["access_token"]
    response = _back(then)
    sign_in(request, response, token, max_age=request.app.state.settings.jwt_expire_minutes * 60)
    return response


@router.post("/logout")
async def logout(request: Request, backend: BackendDep, csrf: Csrf = None) -> Response:
    """Ends the sign-in on the server (a copy of the cookie stops working too), then forgets the cookie."""
    check_csrf(request, csrf)
    token = session_token(request)
    if token is not None:
        with contextlib.suppress(BackendError):  # already signed out, or expired: nothing left to end
            await backend.call("POST", "/api/auth/logout", token=token)
    response = _back("/login")
    sign_out(response)
    return response


# --- the dashboard and tasks ---------------------------------------------------------------------------


@router.get("/")
async def dashboard(request: Request, user: UserDep) -> Response:
    return await _dashboard(request, user)


async def _dashboard(request: Request, user: SignedIn, *, status: int = 200) -> Response:
    open_query = {"status": "open", "sort": "due_date", "page_size": 100}
    done_query = {"status": "completed", "sort": "-completed_at", "page_size": 50}
    open_tasks = await user.call("GET", "/api/tasks", params=open_query)
    done = await user.call("GET", "/api/tasks", params=done_query)
    groups = present.dashboard_groups(open_tasks["items"], done["items"], _now(request), user.timezone)
    context = Page(title="Dashboard", user=user, data={"groups": groups, "open": open_tasks["total"]})
    return page(request, "dashboard.html", context, status=status)


@router.post("/tasks")
async def add_task(
    request: Request,
    user: UserDep,
    csrf: Csrf = None,
    title: Annotated[str, Form()] = "",
    due: Annotated[str, Form()] = "",
    priority: Annotated[int, Form()] = 2,
    tags: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    fields: dict[str, Any] = {"title": title, "priority": priority,
                              "tags": [t.strip() for t in tags.split(",") if t.strip()]}  # fmt: skip
    if due:
        fields["due_date"] = due  # wall time in the user's timezone, as the API reads an offset-less time
    _, refused = await user.attempt("POST", "/api/tasks", json=fields)
    if refused is not None:
        request.state.flash_error = sentence(refused)
        return await _dashboard(request, user, status=422)
    return _back(_back_to(request, added="1"))  # the page puts the cursor back in the title box


@router.post("/tasks/{task_id}/complete")
async def complete_task(request: Request, task_id: str, user: UserDep, csrf: Csrf = None) -> Response:
    check_csrf(request, csrf)
    await user.call("POST", f"/api/tasks/{task_id}/complete")
    return _back(_back_to(request, completed=task_id))  # the page offers to undo it


def _back_to(request: Request, **say: str) -> str:
    """The page the form was sent from, with `say` in its query (replacing what an earlier form said)."""
    came_from = urlsplit(request.headers.get("referer") or "/")
    query = {k: v for k, v in parse_qsl(came_from.query) if k not in ("added", "completed")} | say
    return urlunsplit(("", "", came_from.path or "/", urlencode(query), ""))


@router.post("/tasks/{task_id}/reopen")
async def reopen_task(request: Request, task_id: str, user: UserDep, csrf: Csrf = None) -> Response:
    check_csrf(request, csrf)
    await user.call("POST", f"/api/tasks/{task_id}/uncomplete")
    return _back(_back_to(request))


TASK_FILTERS = ("status", "due_state", "priority", "tag", "q", "sort")


@router.get("/tasks")
async def task_list(request: Request, user: UserDep) -> Response:
    """Every task, filtered and sorted by what the query string asks (the filter form is a GET)."""
    chosen = {k: v for k in TASK_FILTERS if (v := request.query_params.get(k, "").strip())}
    if "tag" in chosen:
        chosen["tag"] = chosen["tag"].lstrip("#")  # tags are shown as #work; typed so, they still filter
    asked = request.query_params.get("page", "1")
    page_number = int(asked) if asked.isdigit() and int(asked) > 0 else 1
    answer, refused = await user.attempt(
        "GET", "/api/tasks", params={**chosen, "page": page_number, "page_size": 25}
    )
    if refused is not None:
        answer, request.state.flash_error = {"items": [], "total": 0}, sentence(refused)
    now = _now(request)
    tasks = [present.task_view(t, now, user.timezone) for t in answer["items"]]
    pages = max(1, -(-answer["total"] // 25))
    data = {"tasks": tasks, "total": answer["total"], "chosen": chosen, "page_number": page_number,
            "pages": pages, "query": lambda **extra: urlencode({**chosen, **extra})}  # fmt: skip
    return page(request, "tasks.html", Page(title="Tasks", user=user, data=data))


@router.get("/tasks/{task_id}")
async def task_edit_form(request: Request, task_id: str, user: UserDep) -> Response:
    return await _task_page(request, user, task_id)


@router.post("/tasks/{task_id}")
async def task_save(request: Request, task_id: str, user: UserDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    text = {k: str(form.get(k) or "").strip() for k in ("title", "description", "due", "priority", "tags")}
    leads = sorted({int(m) for m in map(str, form.getlist("reminder_minutes")) if m.isdigit()}, reverse=True)
    changes: dict[str, Any] = {
        "title": text["title"],
        "description": text["description"] or None,
        "due_date": text["due"] or None,
        "priority": int(text["priority"]) if text["priority"].isdigit() else text["priority"],
        "tags": [t.strip() for t in text["tags"].split(",") if t.strip()],
        "reminder_minutes": _own_leads(user, leads, follows_defaults=form.get("follows_defaults") == "yes"),
    }
    _, refused = await user.attempt("PATCH", f"/api/tasks/{task_id}", json=changes)
    if refused is not None:
        return await _task_page(request, user, task_id, refused=refused)
    return _back(f"/tasks/{task_id}?saved=1")


def _own_leads(user: SignedIn, ticked: list[int], *, follows_defaults: bool) -> list[int] | None:
    """The form shows the leads that apply, the user's defaults included: a task that followed them
    goes on following them (None) unless its boxes were changed, and then has its own."""
    defaults = sorted(user.me["reminder_minutes"], reverse=True)
    return None if follows_defaults and ticked == defaults else ticked


@router.post("/tasks/{task_id}/snooze")
async def task_snooze(
    request: Request, task_id: str, user: UserDep, csrf: Csrf = None, minutes: Annotated[int, Form()] = 10
) -> Response:
    check_csrf(request, csrf)
    await user.call("POST", f"/api/tasks/{task_id}/snooze", json={"minutes": minutes})
    return _back(f"/tasks/{task_id}?saved=snooze")


@router.post("/tasks/{task_id}/delete")
async def task_delete(request: Request, task_id: str, user: UserDep, csrf: Csrf = None) -> Response:
    check_csrf(request, csrf)
    await user.call("DELETE", f"/api/tasks/{task_id}")
    return _back("/tasks")


async def _task_page(
    request: Request, user: SignedIn, task_id: str, *, refused: BackendError | None = None
) -> Response:
    task = await user.call("GET", f"/api/tasks/{task_id}")
    reminders = await user.call("GET", f"/api/tasks/{task_id}/reminders")
    now = _now(request)
    planned = [{**r, "what": present.reminder_label(r["kind"], r.get("minutes_before")),
                "when": present.local_time(present.parse_instant(r["fire_at"]) or now, user.timezone)}
               for r in reminders if r["state"] == "pending"]  # fmt: skip
    data = {"task": task, "view": present.task_view(task, now, user.timezone), "reminders": planned,
            "due_value": present.input_value(present.parse_instant(task["due_date"]), user.timezone),
            "leads": REMINDER_LEADS, "saved": request.query_params.get("saved")}  # fmt: skip
    return page(request, "task.html", Page(title="Edit task", user=user, data=data), refused=refused)


# --- recurring series ---------------------------------------------------------------------------------


@router.get("/series")
async def series_list(request: Request, user: UserDep) -> Response:
    start = (_now(request) + timedelta(hours=1)).astimezone(ZoneInfo(user.timezone))
    form = SeriesForm(start=start.strftime("%Y-%m-%dT%H:00"), timezone=user.timezone)
    return await _series_page(request, user, form)


@router.post("/series/preview")
async def series_preview(request: Request, user: UserDep) -> Response:
    form = await _series_form(request)
    answer, refused = await user.attempt(
        "POST", "/api/recurring-tasks/preview", json=form.to_api(), params={"limit": 5}
    )
    if refused is not None:
        return await _series_page(request, user, form, refused=refused)
    zone = answer["timezone"]
    preview = [
        present.local_time(present.parse_instant(t) or _now(request), zone) for t in answer["occurrences"]
    ]
    return await _series_page(request, user, form, preview=preview)


@router.post("/series")
async def series_create(request: Request, user: UserDep) -> Response:
    form = await _series_form(request)
    _, refused = await user.attempt("POST", "/api/recurring-tasks", json=form.to_api())
    if refused is not None:
        return await _series_page(request, user, form, refused=refused)
    return _back("/series")


@router.get("/series/{series_id}")
async def series_edit_form(request: Request, series_id: str, user: UserDep) -> Response:
    series = await user.call("GET", f"/api/recurring-tasks/{series_id}")
    zone = series["timezone"]
    start = present.input_value(present.parse_instant(series["start_date"]), zone)
    end = present.input_value(present.parse_instant(series["end_date"]), zone)
    return await _series_page(request, user, SeriesForm.from_series(series, start, end), editing=series_id)


@router.post("/series/{series_id}")
async def series_save(request: Request, series_id: str, user: UserDep) -> Response:
    form = await _series_form(request)
    changes = {"end_date": None, "count": None, "rrule": None, **form.to_api()}  # what was cleared is cleared
    _, refused = await user.attempt("PUT", f"/api/recurring-tasks/{series_id}", json=changes)
    if refused is not None:
        return await _series_page(request, user, form, refused=refused, editing=series_id)
    return _back("/series")


@router.post("/series/{series_id}/{action}")
async def series_action(
    request: Request, series_id: str, action: str, user: UserDep, csrf: Csrf = None
) -> Response:
    check_csrf(request, csrf)
    if action == "delete":
        await user.call("DELETE", f"/api/recurring-tasks/{series_id}")
    elif action in ("pause", "resume"):
        await user.call("PUT", f"/api/recurring-tasks/{series_id}", json={"is_active": action == "resume"})
    else:
        raise BackendError(404, "no such action")
    return _back("/series")


def _next_local(series: dict[str, Any]) -> str | None:
    due = present.parse_instant(series["next_due_at"])
    return None if due is None else present.local_time(due, series["timezone"])


async def _series_form(request: Request) -> SeriesForm:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    return SeriesForm.from_form(form, [str(d) for d in form.getlist("weekdays")])


async def _series_page(
    request: Request,
    user: SignedIn,
    form: SeriesForm,
    *,
    preview: list[str] | None = None,
    refused: BackendError | None = None,
    editing: str | None = None,
) -> Response:
    answer = await user.call("GET", "/api/recurring-tasks", params={"page_size": 100})
    rows = [{**s, "rule": describe(s), "next": _next_local(s)} for s in answer["items"]]
    data = {"series": rows, "form": form, "preview": preview, "weekdays": WEEKDAYS, "editing": editing,
            "monthly_choices": monthly_choices(), "frequencies": FREQUENCIES}  # fmt: skip
    return page(request, "series.html", Page(title="Recurring", user=user, data=data), refused=refused)


# --- insights ------------------------------------------------------------------------------------------


@router.get("/insights")
async def insights(request: Request, user: UserDep) -> Response:
    asked = request.query_params.get("days", "14")
    days = int(asked) if asked in ("7", "14", "30", "90") else 14
    stats = await user.call("GET", "/api/stats", params={"days": days})
    data = {"stats": stats, "chart": daily_chart(stats["days"]), "days": days}
    return page(request, "insights.html", Page(title="Insights", user=user, data=data))


# --- settings ------------------------------------------------------------------------------------------

REMINDER_LEADS = ((10080, "1 week before"), (1440, "1 day before"), (60, "1 hour before"),
                  (15, "15 minutes before"), (0, "at the due time"))  # fmt: skip


@router.get("/settings")
async def settings_page(request: Request, user: UserDep) -> Response:
    return await _settings_page(request, user)


@router.post("/settings/profile")
async def save_profile(request: Request, user: UserDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    leads = {int(m) for m in map(str, form.getlist("reminder_minutes")) if m.isdigit()}
    changes = {"display_name": str(form.get("display_name") or "").strip(),
               "timezone": str(form.get("timezone") or "").strip(),
               "reminder_minutes": sorted(leads, reverse=True)}  # fmt: skip
    _, refused = await user.attempt("PATCH", "/api/me", json=changes)
    if refused is not None:
        return await _settings_page(request, user, refused=refused)
    return _back("/settings?saved=profile")


class NewPassword(BaseModel):
    csrf_token: str = ""
    current_password: str = ""
    new_password: str = ""


@router.post("/settings/password")
async def change_password(request: Request, user: UserDep, form: Annotated[NewPassword, Form()]) -> Response:
    check_csrf(request, form.csrf_token)
    change = {"current_password": form.current_password, "new_password": form.new_password}
    _, refused = await user.attempt("POST", "/api/me/password", json=change)
    if refused is not None:
        return await _settings_page(request, user, refused=refused)
    return _back("/settings?saved=password")


@router.post("/settings/sign-out-everywhere")
async def sign_out_everywhere(request: Request, user: UserDep, csrf: Csrf = None) -> Response:
    check_csrf(request, csrf)
    await user.call("DELETE", "/api/auth/sessions")
    response = _back("/login")
    sign_out(response)
    return response


class NewChannel(BaseModel):
    csrf_token: str = ""
    label: str = ""
    url: str = ""


@router.post("/settings/channels/add")
async def add_channel(request: Request, user: UserDep, form: Annotated[NewChannel, Form()]) -> Response:
    check_csrf(request, form.csrf_token)
    kept = [{"id": c["id"]} for c in await user.call("GET", "/api/me/channels")]
    wanted = {"label": form.label, "url": form.url}
    _, refused = await user.attempt("PUT", "/api/me/channels", json=[*kept, wanted])
    if refused is not None:
        return await _settings_page(request, user, refused=refused, channel_form=wanted)
    return _back("/settings?saved=channels")


@router.post("/settings/channels/{channel_id}/remove")
async def remove_channel(request: Request, channel_id: str, user: UserDep, csrf: Csrf = None) -> Response:
    check_csrf(request, csrf)
    kept = [{"id": c["id"]} for c in await user.call("GET", "/api/me/channels") if c["id"] != channel_id]
    await user.call("PUT", "/api/me/channels", json=kept)
    return _back("/settings?saved=channels")


@router.post("/settings/channels/test")
async def send_channel_test(request: Request, user: UserDep, csrf: Csrf = None) -> Response:
    check_csrf(request, csrf)
    results = await user.call("POST", "/api/me/channels/test")
    return await _settings_page(request, user, test_results=results)


async def _settings_page(
    request: Request,
    user: SignedIn,
    *,
    refused: BackendError | None = None,
    channel_form: dict[str, str] | None = None,
    test_results: list[dict[str, Any]] | None = None,
) -> Response:
    channels = [_with_last_time(c, user.timezone) for c in await user.call("GET", "/api/me/channels")]
    data = {"channels": channels, "leads": REMINDER_LEADS, "test_results": test_results,
            "channel_form": channel_form or {}, "saved": request.query_params.get("saved")}  # fmt: skip
    return page(request, "settings.html", Page(title="Settings", user=user, data=data), refused=refused)


def _with_last_time(channel: dict[str, Any], timezone: str) -> dict[str, Any]:
    """The channel with when it was last sent to, in the user's zone ("Mon 15 Jun, 14:00")."""
    last = channel.get("last_delivery")
    when = present.parse_instant(last["at"]) if last else None
    return {**channel, "last_when": present.local_time(when, timezone) if when else None}


# --- notifications -------------------------------------------------------------------------------------


@router.get("/notifications")
async def notifications(request: Request, user: UserDep) -> Response:
    answer = await user.call("GET", "/api/notifications", params={"page_size": 50})
    now = _now(request)
    items = [
        {**n, "when": present.local_time(present.parse_instant(n["created_at"]) or now, user.timezone),
         "ago": present.relative(present.parse_instant(n["created_at"]) or now, now)}
        for n in answer["items"]
    ]  # fmt: skip
    return page(request, "notifications.html", Page(title="Notifications", user=user, data={"items": items}))


@router.post("/notifications/{notification_id}/read")
async def mark_read(request: Request, notification_id: str, user: UserDep, csrf: Csrf = None) -> Response:
    check_csrf(request, csrf)
    await user.call("POST", f"/api/notifications/{notification_id}/read")
    return _back("/notifications")


@router.post("/notifications/read-all")
async def mark_all_read(request: Request, user: UserDep, csrf: Csrf = None) -> Response:
    check_csrf(request, csrf)
    await user.call("POST", "/api/notifications/read-all")
    return _back("/notifications")


@router.get("/live")
async def live(request: Request, user: UserDep) -> Response:
    """The backend's notification stream, passed through: the browser's EventSource cannot send the
    bearer token, the web UI can."""
    backend, closing = await _backend(request), request.app.state.closing

    async def relay() -> AsyncIterator[bytes]:
        async with backend.stream("/api/notifications/stream", token=user.token) as upstream:
            chunks = upstream.aiter_raw()
            while (chunk := await _next_unless(chunks, closing)) is not None:
                yield chunk

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(relay(), media_type="text/event-stream", headers=headers)


async def _next_unless(chunks: AsyncIterator[bytes], closing: asyncio.Event) -> bytes | None:
    """The next chunk; None when the stream ended or broke, or the server is shutting down. Whatever
    happens (the browser leaving cancels us), no read is left running behind."""
    nxt = asyncio.ensure_future(anext(chunks))
    stop = asyncio.ensure_future(closing.wait())
    try:
        await asyncio.wait({nxt, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        if not nxt.done():
            nxt.cancel()
    if not nxt.done() or nxt.cancelled():
        return None  # shutting down (the read was cancelled above)
    try:
        return nxt.result()
    except (StopAsyncIteration, httpx.HTTPError):
        return None  # the browser's EventSource reconnects by itself


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None
