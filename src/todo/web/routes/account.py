"""Signing up, in and out."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Request
from fastapi.responses import Response

from todo.web.backend import Backend, BackendError
from todo.web.forms import ConfirmForm, CredentialsForm
from todo.web.pages import Page, by_field, page
from todo.web.routes.common import BackendDep, back, client_of
from todo.web.session import check_csrf, session_token, sign_in, sign_out

router = APIRouter()


@router.get("/login")
async def login_form(request: Request) -> Response:
    return page(request, "login.html", Page(title="Sign in"))


@router.post("/login")
async def login(request: Request, backend: BackendDep, form: CredentialsForm) -> Response:
    check_csrf(request, form.csrf_token)
    retry = Page(title="Sign in", form={"email": form.email, "next": form.next})
    fields = {"email": form.email, "password": form.password}
    then = _local_path(form.next)
    return await _sign_in_through(request, backend, "/api/auth/login", fields, "login.html", retry, then)


def _local_path(wanted: str) -> str:
    """`wanted` if it is a page of this site (never another host's, as `//evil.example` would be)."""
    return wanted if wanted.startswith("/") and not wanted.startswith(("//", "/\\")) else "/"


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
        answer = await backend.call("POST", path, json=fields, client=client_of(request))
    except BackendError as exc:
        retry.error, retry.field_errors = exc.message, by_field(exc)
        return page(request, template, retry, status=exc.status if exc.status in (401, 422, 429) else 400)
    response = back(then)
    max_age = request.app.state.settings.jwt_expire_minutes * 60
    sign_in(request, response, answer["access_token"], max_age=max_age)
    return response


@router.post("/logout")
async def logout(request: Request, backend: BackendDep, form: ConfirmForm) -> Response:
    """Ends the sign-in on the server (a copy of the cookie stops working too), then forgets the cookie."""
    check_csrf(request, form.csrf_token)
    token = session_token(request)
    if token is not None:
        with contextlib.suppress(BackendError):  # already signed out, or expired: nothing left to end
            await backend.call("POST", "/api/auth/logout", token=token)
    response = back("/login")
    sign_out(response)
    return response
