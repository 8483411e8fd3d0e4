"""Integrations, on the settings page: personal API tokens and webhooks, each shown once when made."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from todo.web.forms import ConfirmForm, NewApiTokenForm, NewWebhookForm
from todo.web.routes.common import UserDep, back
from todo.web.routes.settings import render_settings
from todo.web.session import check_csrf

router = APIRouter(prefix="/settings")


@router.post("/tokens")
async def make_api_token(request: Request, user: UserDep, form: NewApiTokenForm) -> Response:
    check_csrf(request, form.csrf_token)
    made, refused = await user.attempt(
        "POST", "/api/me/tokens", json={"name": form.name, "scope": form.scope}
    )
    if refused is not None:
        return await render_settings(request, user, refused=refused)
    return await render_settings(request, user, shown_once={"token": made["token"], "name": made["name"]})


@router.post("/tokens/{token_id}/revoke")
async def revoke_api_token(request: Request, token_id: str, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("DELETE", f"/api/me/tokens/{token_id}")
    return back("/settings?saved=tokens#integrations")


@router.post("/webhooks")
async def add_webhook(request: Request, user: UserDep, form: NewWebhookForm) -> Response:
    check_csrf(request, form.csrf_token)
    made, refused = await user.attempt("POST", "/api/webhooks", json={"url": form.url, "events": form.events})
    if refused is not None:
        return await render_settings(request, user, refused=refused)
    return await render_settings(request, user, shown_once={"secret": made["secret"], "url": made["url"]})


@router.post("/webhooks/{webhook_id}/toggle")
async def pause_or_resume_webhook(
    request: Request, webhook_id: str, user: UserDep, form: ConfirmForm
) -> Response:
    check_csrf(request, form.csrf_token)
    webhook = await user.call("GET", f"/api/webhooks/{webhook_id}")
    await user.call("PATCH", f"/api/webhooks/{webhook_id}", json={"active": not webhook["active"]})
    return back("/settings?saved=webhooks#integrations")


@router.post("/webhooks/{webhook_id}/remove")
async def remove_webhook(request: Request, webhook_id: str, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("DELETE", f"/api/webhooks/{webhook_id}")
    return back("/settings?saved=webhooks#integrations")
