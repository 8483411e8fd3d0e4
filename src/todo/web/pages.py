"""Rendering a page, and who is signed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from todo.timeutil import timezone_names
from todo.web.backend import Backend, BackendError
from todo.web.session import csrf_token, remember_csrf, session_token
from todo.web.wording import problem

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")  # autoescapes .html
TEMPLATES.env.globals["timezones"] = timezone_names()  # the choices of every time zone field


class NotSignedIn(Exception):
    """No session, or the API no longer accepts it: the browser goes to the sign-in page."""


@dataclass
class SignedIn:
    """The signed-in user, with their token for the API calls a page makes."""

    backend: Backend
    token: str
    me: dict[str, Any]
    unread: int

    @property
    def timezone(self) -> str:
        return str(self.me["timezone"])

    @property
    def name(self) -> str:
        return str(self.me.get("display_name") or self.me["email"])

    async def attempt(self, method: str, path: str, **kwargs: Any) -> tuple[Any, BackendError | None]:
        """Like `call`, but a 422 refusal is handed back (to show beside the form) instead of raised."""
        try:
            return await self.call(method, path, **kwargs), None
        except BackendError as exc:
            if exc.status != 422:
                raise
            return None, exc

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return await self.backend.call(method, path, token=self.token, **kwargs)
        except BackendError as exc:
            if exc.status == 401:
                raise NotSignedIn from exc
            raise


async def signed_in(request: Request) -> SignedIn:
    token = session_token(request)
    if token is None:
        raise NotSignedIn
    backend: Backend = request.app.state.backend
    user = SignedIn(backend, token, {}, 0)
    user.me = await user.call("GET", "/api/me")
    user.unread = (await user.call("GET", "/api/notifications/unread-count"))["unread"]
    return user


@dataclass
class Page:
    title: str
    user: SignedIn | None = None
    error: str | None = None
    form: dict[str, Any] = field(default_factory=dict)
    field_errors: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


def page(
    request: Request, template: str, context: Page, *, status: int = 200, refused: BackendError | None = None
) -> Response:
    """Render `template`; with `refused`, as a 422 showing the API's reasons beside their fields."""
    if refused is not None:
        context.error, context.field_errors, status = sentence(refused), by_field(refused), 422
    error = context.error or getattr(request.state, "flash_error", None)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {"page": context, "user": context.user, "error": error, "csrf": csrf_token(request), **context.data},
        status_code=status,
    )
    remember_csrf(request, response)
    return response


def by_field(exc: BackendError) -> dict[str, str]:
    """The API's reasons in words, keyed by form field (`body.timezone` and `0.url` become `timezone` and
    `url`)."""
    return {f["field"].split(".")[-1]: problem(f["field"], f["reason"]) for f in exc.fields}


def sentence(exc: BackendError) -> str:
    """The API's refusal in a few words: each bad field by its label and what is wrong with it."""
    if not exc.fields:
        return exc.message
    return " ".join(problem(f["field"], f["reason"]) for f in exc.fields)
