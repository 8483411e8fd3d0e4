"""The recurring series: the list with its form (and a preview of the next dates), editing, pausing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from todo.web import present
from todo.web.backend import BackendError
from todo.web.forms import ConfirmForm, SeriesFields, SeriesFieldsForm
from todo.web.pages import Page, SignedIn, page
from todo.web.routes.common import UserDep, back, now
from todo.web.series_form import FREQUENCIES, WEEKDAYS, SeriesForm, describe, monthly_choices
from todo.web.session import check_csrf

router = APIRouter()


@router.get("/series")
async def series_list(request: Request, user: UserDep) -> Response:
    start = (now(request) + timedelta(hours=1)).astimezone(ZoneInfo(user.timezone))
    form = SeriesForm(start=start.strftime("%Y-%m-%dT%H:00"), timezone=user.timezone)
    return await _series_page(request, user, form)


@router.post("/series/preview")
async def series_preview(request: Request, user: UserDep, fields: SeriesFieldsForm) -> Response:
    form = _series_form(request, fields)
    answer, refused = await user.attempt(
        "POST", "/api/recurring-tasks/preview", json=form.to_api(), params={"limit": 5}
    )
    if refused is not None:
        return await _series_page(request, user, form, refused=refused)
    at, zone = now(request), answer["timezone"]
    preview = [present.local_time(present.parse_instant(t) or at, zone) for t in answer["occurrences"]]
    return await _series_page(request, user, form, preview=preview)


@router.post("/series")
async def series_create(request: Request, user: UserDep, fields: SeriesFieldsForm) -> Response:
    form = _series_form(request, fields)
    _, refused = await user.attempt("POST", "/api/recurring-tasks", json=form.to_api())
    if refused is not None:
        return await _series_page(request, user, form, refused=refused)
    return back("/series")


@router.get("/series/{series_id}")
async def series_edit_form(request: Request, series_id: str, user: UserDep) -> Response:
    series = await user.call("GET", f"/api/recurring-tasks/{series_id}")
    zone = series["timezone"]
    start = present.input_value(present.parse_instant(series["start_date"]), zone)
    end = present.input_value(present.parse_instant(series["end_date"]), zone)
    return await _series_page(request, user, SeriesForm.from_series(series, start, end), editing=series_id)


@router.post("/series/{series_id}")
async def series_save(request: Request, series_id: str, user: UserDep, fields: SeriesFieldsForm) -> Response:
    form = _series_form(request, fields)
    changes = {"end_date": None, "count": None, "rrule": None, **form.to_api()}  # what was cleared is cleared
    _, refused = await user.attempt("PUT", f"/api/recurring-tasks/{series_id}", json=changes)
    if refused is not None:
        return await _series_page(request, user, form, refused=refused, editing=series_id)
    return back("/series")


@router.post("/series/{series_id}/{action}")
async def series_action(
    request: Request, series_id: str, action: str, user: UserDep, form: ConfirmForm
) -> Response:
    check_csrf(request, form.csrf_token)
    if action == "delete":
        await user.call("DELETE", f"/api/recurring-tasks/{series_id}")
    elif action in ("pause", "resume"):
        await user.call("PUT", f"/api/recurring-tasks/{series_id}", json={"is_active": action == "resume"})
    else:
        raise BackendError(404, "no such action")
    return back("/series")


def _series_form(request: Request, fields: SeriesFields) -> SeriesForm:
    check_csrf(request, fields.csrf_token)
    return fields


def _next_local(series: dict[str, Any]) -> str | None:
    due = present.parse_instant(series["next_due_at"])
    return None if due is None else present.local_time(due, series["timezone"])


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
    data = {
        "series": [{**s, "rule": describe(s), "next": _next_local(s)} for s in answer["items"]],
        "form": form,
        "preview": preview,
        "weekdays": WEEKDAYS,
        "editing": editing,
        "monthly_choices": monthly_choices(),
        "frequencies": FREQUENCIES,
    }
    return page(request, "series.html", Page(title="Recurring", user=user, data=data), refused=refused)
