"""What every page's handler reaches for: the backend, the signed-in user, the clock, the way back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from todo.clock import Clock
from todo.web.backend import Backend
from todo.web.pages import SignedIn, signed_in


async def backend_of(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


BackendDep = Annotated[Backend, Depends(backend_of)]
UserDep = Annotated[SignedIn, Depends(signed_in)]


def now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


def back(to: str = "/") -> RedirectResponse:
    """After a form: the browser goes to `to` and asks for it (303), so a reload sends nothing again."""
    return RedirectResponse(to, status_code=303)


def back_to(request: Request, **say: str) -> str:
    """The page the form was sent from, with `say` in its query (replacing what an earlier form said)."""
    came_from = urlsplit(request.headers.get("referer") or "/")
    query = {k: v for k, v in parse_qsl(came_from.query) if k not in ("added", "completed")} | say
    return urlunsplit(("", "", came_from.path or "/", urlencode(query), ""))


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None
