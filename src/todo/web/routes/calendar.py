"""The calendar feed: made and revoked on the settings page, served here at the web UI's own address (the
API's may not be reachable from a user's calendar app)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from todo.web.forms import ConfirmForm
from todo.web.routes.common import UserDep, back, backend_of
from todo.web.session import check_csrf

router = APIRouter()


@router.post("/settings/calendar")
async def make_feed(request: Request, user: UserDep, form: ConfirmForm) -> Response:
    """A new feed URL (the old one stops working)."""
    check_csrf(request, form.csrf_token)
    await user.call("POST", "/api/me/calendar-feed")
    return back("/settings?saved=calendar#calendar")


@router.post("/settings/calendar/revoke")
async def revoke_feed(request: Request, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("DELETE", "/api/me/calendar-feed")
    return back("/settings?saved=calendar#calendar")


@router.get("/calendar/{token}.ics", name="calendar_document")
async def calendar_document(request: Request, token: str) -> Response:
    """The feed, for calendar apps: no sign-in, the token is the key (an unknown one is a 404 page)."""
    body, content_type = await (await backend_of(request)).document(f"/api/calendar/{token}.ics")
    return Response(body, media_type=content_type, headers={"Cache-Control": "private, max-age=300"})
