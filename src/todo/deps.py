"""FastAPI dependency aliases, in one place: sessions, the caller, the clock and what else a route needs.

Every dependency is `async def`: FastAPI runs a plain `def` one in its thread pool, a hand-off to another
thread on every request (a tenth of `GET /api/me` under load) for what takes a microsecond here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from todo.auth import api_tokens
from todo.auth.cache import SignInCache
from todo.auth.models import User
from todo.auth.ratelimit import LoginGuard
from todo.auth.security import read_token
from todo.clock import Clock
from todo.config import Settings
from todo.errors import Forbidden, Unauthorized
from todo.notifications.api.live import LiveFeed
from todo.notifications.sending import ChannelSender

Sessions = async_sessionmaker[AsyncSession]


def _built(request: Request) -> Any:
    """What bootstrap built for this app (apps.py puts it on the app's state); read only through the
    narrow dependencies below, each typed as what it gives."""
    return request.app.state.container


def _part(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency that gives one part of what bootstrap built (its alias says the part's type)."""

    async def part(request: Request) -> Any:
        return getattr(_built(request), name)

    part.__name__ = f"get_{name}"
    return part


SettingsDep = Annotated[Settings, Depends(_part("settings"))]
ClockDep = Annotated[Clock, Depends(_part("clock"))]
EngineDep = Annotated[AsyncEngine, Depends(_part("engine"))]
LoginGuardDep = Annotated[LoginGuard, Depends(_part("login_guard"))]
LiveFeedDep = Annotated[LiveFeed, Depends(_part("live_feed"))]
ChannelSenderDep = Annotated[ChannelSender, Depends(_part("channel_sender"))]
# The session factories, for a route that opens sessions of its own (a stream that stays open for hours
# holds none between its reads): ordinary ones, and autocommit ones for reads (as ReadSessionDep's)
SessionsDep = Annotated[Sessions, Depends(_part("sessions"))]
ReadSessionsDep = Annotated[Sessions, Depends(_part("read_sessions"))]
# and, for a write that is one statement where the store makes it one (PostgreSQL), autocommit ones:
# the statement its own transaction (elsewhere ordinary sessions); commit either way
OneStatementSessionsDep = Annotated[Sessions, Depends(_part("one_statement_sessions"))]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; the route commits once at the end, anything else rolls back."""
    async with _built(request).sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for a request that only reads, in autocommit: no BEGIN and no ROLLBACK, two of a task
    listing's four round trips. Each statement sees the database as of its own start."""
    async with _built(request).read_sessions() as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]


async def get_now(clock: ClockDep) -> datetime:
    return clock.now()


NowDep = Annotated[datetime, Depends(get_now)]


class BearerUser(OAuth2PasswordBearer):
    """The signed-in caller, from the `Authorization: Bearer` token of a sign-in still open, or a personal
    API token (`todo_pat_...`; one whose scope is read only reads).

    One dependency that is also the OpenAPI security scheme (the docs' Authorize button): FastAPI solves
    each dependency of a request anew, and the caller's row and sign-in usually come from the per-process
    caches, so it needs no session of its own (a miss opens one). Half of a cached `GET /api/me` went to
    solving the session, container and token dependencies this replaced.
    """

    async def __call__(self, request: Request) -> User:  # type: ignore[override]  # the user, not the token
        token = await self._bearer(request)
        if token.startswith(api_tokens.PREFIX):
            return await _api_token_user(request, token)
        return (await self._sign_in(request, token)).user

    async def signed_in(self, request: Request) -> SignedIn:
        token = await self._bearer(request)
        if token.startswith(api_tokens.PREFIX):
            raise Forbidden("an API token cannot manage sign-ins, the password or API tokens: sign in")
        return await self._sign_in(request, token)

    async def _bearer(self, request: Request) -> str:
        token = await super().__call__(request)
        if not token:
            raise Unauthorized("missing bearer token")
        return token

    async def _sign_in(self, request: Request, token: str) -> SignedIn:
        built = _built(request)
        secret = built.settings.jwt_secret
        assert secret is not None, "ensure_jwt_secret runs before the app is built"
        now = built.clock.now()
        claims = read_token(token, secret=secret.get_secret_value(), now=now)
        sign_ins: SignInCache = built.sign_ins
        user = await sign_ins.user(
            built.read_sessions, session_id=claims.session_id, user_id=claims.user_id, now=now
        )
        if user is None:
            raise Unauthorized("signed out: sign in again")
        return SignedIn(user, claims.session_id)


READS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _api_token_user(request: Request, token: str) -> User:
    """Looked up on every request (one statement, not cached): a revoked token stops working at once."""
    built = _built(request)
    async with built.read_sessions() as session:
        found = await api_tokens.authenticate(session, token=token, now=built.clock.now())
    if found is None:
        raise Unauthorized("unknown or revoked API token")
    user, row = found
    if row.scope == "read" and request.method not in READS:
        raise Forbidden(f"the API token “{row.name}” may only read: make one with the write scope")
    return user


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: uuid.UUID


class BearerSignIn(BearerUser):
    """The caller and the sign-in their token belongs to (to sign it out, or keep it)."""

    async def __call__(self, request: Request) -> SignedIn:  # type: ignore[override]
        return await self.signed_in(request)


CurrentUser = Annotated[
    User,
    Depends(BearerUser(tokenUrl="/api/auth/login", scheme_name="OAuth2PasswordBearer", auto_error=False)),
]
CurrentSignIn = Annotated[  # the same security scheme, by its name
    SignedIn,
    Depends(BearerSignIn(tokenUrl="/api/auth/login", scheme_name="OAuth2PasswordBearer", auto_error=False)),
]
