"""Settings: the profile and default reminders, the password, signing out everywhere, the channels."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from todo.web import present
from todo.web.backend import BackendError
from todo.web.forms import REMINDER_LEADS, ConfirmForm, NewChannelForm, NewPasswordForm, ProfileForm
from todo.web.pages import Page, SignedIn, page
from todo.web.routes.common import UserDep, back
from todo.web.session import check_csrf, sign_out

router = APIRouter(prefix="/settings")


@router.get("")
async def settings_page(request: Request, user: UserDep) -> Response:
    return await render_settings(request, user)


@router.post("/profile")
async def save_profile(request: Request, user: UserDep, form: ProfileForm) -> Response:
    check_csrf(request, form.csrf_token)
    changes = {
        "display_name": form.display_name.strip(),
        "timezone": form.timezone.strip(),
        "reminder_minutes": form.leads(),
        "quiet_hours": form.quiet_hours(),
    }
    _, refused = await user.attempt("PATCH", "/api/me", json=changes)
    if refused is not None:
        return await render_settings(request, user, refused=refused)
    return back("/settings?saved=profile")


@router.post("/password")
async def change_password(request: Request, user: UserDep, form: NewPasswordForm) -> Response:
    check_csrf(request, form.csrf_token)
    change = {"current_password": form.current_password, "new_password": form.new_password}
    _, refused = await user.attempt("POST", "/api/me/password", json=change)
    if refused is not None:
        return await render_settings(request, user, refused=refused)
    return back("/settings?saved=password")


@router.post("/sign-out-everywhere")
async def sign_out_everywhere(request: Request, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("DELETE", "/api/auth/sessions")
    response = back("/login")
    sign_out(response)
    return response


@router.post("/channels/add")
async def add_channel(request: Request, user: UserDep, form: NewChannelForm) -> Response:
    check_csrf(request, form.csrf_token)
    kept = [{"id": c["id"]} for c in await user.call("GET", "/api/me/channels")]
    wanted = {"label": form.label, "url": form.url}
    _, refused = await user.attempt("PUT", "/api/me/channels", json=[*kept, wanted])
    if refused is not None:
        return await render_settings(request, user, refused=refused, channel_form=wanted)
    return back("/settings?saved=channels")


@router.post("/channels/{channel_id}/remove")
async def remove_channel(request: Request, channel_id: str, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    kept = [{"id": c["id"]} for c in await user.call("GET", "/api/me/channels") if c["id"] != channel_id]
    await user.call("PUT", "/api/me/channels", json=kept)
    return back("/settings?saved=channels")


@router.post("/channels/test")
async def send_channel_test(request: Request, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    results = await user.call("POST", "/api/me/channels/test")
    return await render_settings(request, user, test_results=results)


async def render_settings(
    request: Request,
    user: SignedIn,
    *,
    refused: BackendError | None = None,
    channel_form: dict[str, str] | None = None,
    test_results: list[dict[str, Any]] | None = None,
    shown_once: dict[str, str] | None = None,
) -> Response:
    """The settings page; `shown_once`: a token or secret just made, which the API never shows again."""
    channels = [_with_last_time(c, user.timezone) for c in await user.call("GET", "/api/me/channels")]
    feed = await user.call("GET", "/api/me/calendar-feed")
    read_at = present.parse_instant(feed["last_read_at"])
    data = {
        "channels": channels,
        "calendar": {
            **feed,
            "url": feed_url(request, feed["url"]) if feed.get("url") else None,
            "read_when": read_at and present.local_time(read_at, user.timezone),
        },
        "leads": REMINDER_LEADS,
        "test_results": test_results,
        "channel_form": channel_form or {},
        "saved": request.query_params.get("saved"),
        "api_tokens": [_with_last_use(t, user.timezone) for t in await user.call("GET", "/api/me/tokens")],
        "webhooks": await user.call("GET", "/api/webhooks"),
        "webhook_events": await user.call("GET", "/api/webhooks/events"),
        "shown_once": shown_once or {},
    }
    return page(request, "settings.html", Page(title="Settings", user=user, data=data), refused=refused)


def feed_url(request: Request, api_url: str) -> str:
    """The feed at the web UI's own address (the API's may not be reachable from a calendar app)."""
    token = api_url.rsplit("/", 1)[-1].removesuffix(".ics")
    return str(request.url_for("calendar_document", token=token))


def _with_last_use(token: dict[str, Any], timezone: str) -> dict[str, Any]:
    used = present.parse_instant(token.get("last_used_at"))
    return {**token, "used_when": present.local_time(used, timezone) if used else None}


def _with_last_time(channel: dict[str, Any], timezone: str) -> dict[str, Any]:
    """The channel with when it was last sent to, in the user's zone ("Mon 15 Jun, 14:00")."""
    last = channel.get("last_delivery")
    when = present.parse_instant(last["at"]) if last else None
    return {**channel, "last_when": present.local_time(when, timezone) if when else None}
