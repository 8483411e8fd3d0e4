"""Rendering a page, and who is signed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from todo.web.backend import Backend, BackendError
from todo.web.session import csrf_token, remember_csrf, session_token

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")  # autoescapes .html


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


def page(request: Request, template: str, context: Page, *, status: int = 200) -> Response:
    error = context.error or getattr(request.state, "flash_error", None)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {"page": context, "user": context.user, "error": error, "csrf": csrf_token(request), **context.data},
        status_code=status,
    )
    remember_csrf(request, response)
    return response
