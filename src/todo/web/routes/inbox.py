"""The notifications page and its live stream (the bell's count and new notifications as they come)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from todo.web import present
from todo.web.forms import ConfirmForm
from todo.web.pages import Page, page
from todo.web.routes.common import UserDep, back, backend_of, now
from todo.web.session import check_csrf

router = APIRouter()


@router.get("/notifications")
async def notifications(request: Request, user: UserDep) -> Response:
    answer = await user.call("GET", "/api/notifications", params={"page_size": 50})
    at = now(request)
    items = [_when(n, at, user.timezone) for n in answer["items"]]
    return page(request, "notifications.html", Page(title="Notifications", user=user, data={"items": items}))


def _when(notification: dict[str, Any], at: datetime, timezone: str) -> dict[str, Any]:
    """The notification with its time in the user's zone and how long ago it was."""
    created = present.parse_instant(notification["created_at"]) or at
    when, ago = present.local_time(created, timezone), present.relative(created, at)
    return {**notification, "when": when, "ago": ago}


@router.post("/notifications/{notification_id}/read")
async def mark_read(request: Request, notification_id: str, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("POST", f"/api/notifications/{notification_id}/read")
    return back("/notifications")


@router.post("/notifications/read-all")
async def mark_all_read(request: Request, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("POST", "/api/notifications/read-all")
    return back("/notifications")


@router.get("/live")
async def live(request: Request, user: UserDep) -> Response:
    """The backend's notification stream, passed through: the browser's EventSource cannot send the
    bearer token, the web UI can."""
    backend, closing = await backend_of(request), request.app.state.closing
    last_event_id = request.headers.get("Last-Event-ID")

    async def relay() -> AsyncIterator[bytes]:
        stream = backend.stream("/api/notifications/stream", token=user.token, last_event_id=last_event_id)
        async with stream as upstream:
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
