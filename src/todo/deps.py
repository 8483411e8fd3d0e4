"""FastAPI dependency aliases, in one place: the session, the caller, the clock's now.

Every dependency is `async def`: FastAPI runs a plain `def` one in its thread pool, a hand-off to another
thread on every request (a tenth of `GET /api/me` under load) for what takes a microsecond here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth.models import User
from todo.auth.security import read_token
from todo.bootstrap import Container
from todo.errors import Unauthorized


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_session(container: ContainerDep) -> AsyncIterator[AsyncSession]:
    """One session per request; the route commits once at the end, anything else rolls back."""
    async with container.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_read_session(container: ContainerDep) -> AsyncIterator[AsyncSession]:
    """A session for a request that only reads, in autocommit: no BEGIN and no ROLLBACK, two of a task
    listing's four round trips. Each statement sees the database as of its own start."""
    async with container.read_sessions() as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]


async def get_one_statement_session(container: ContainerDep) -> AsyncIterator[AsyncSession]:
    """A session for a request whose write is one statement where the store makes it one (PostgreSQL): in
    autocommit, the statement its own transaction. Elsewhere an ordinary session; commit either way."""
    async with container.one_statement_sessions() as session:
        yield session


OneStatementSessionDep = Annotated[AsyncSession, Depends(get_one_statement_session)]


async def get_now(container: ContainerDep) -> datetime:
    return container.clock.now()


NowDep = Annotated[datetime, Depends(get_now)]


class BearerUser(OAuth2PasswordBearer):
    """The signed-in caller, from the `Authorization: Bearer` token of a sign-in still open.

    One dependency that is also the OpenAPI security scheme (the docs' Authorize button): FastAPI solves
    each dependency of a request anew, and the caller's row and sign-in usually come from the per-process
    caches, so it needs no session of its own (a miss opens one). Half of a cached `GET /api/me` went to
    solving the session, container and token dependencies this replaced.
    """

    async def __call__(self, request: Request) -> User:  # type: ignore[override]  # the user, not the token
        return (await self.signed_in(request)).user

    async def signed_in(self, request: Request) -> SignedIn:
        token = await super().__call__(request)
        if not token:
            raise Unauthorized("missing bearer token")
        container: Container = request.app.state.container
        secret = container.settings.jwt_secret
        assert secret is not None, "ensure_jwt_secret runs before the app is built"
        now = container.clock.now()
        claims = read_token(token, secret=secret.get_secret_value(), now=now)
        user = await container.sign_ins.user(
            container.read_sessions, session_id=claims.session_id, user_id=claims.user_id, now=now
        )
        if user is None:
            raise Unauthorized("signed out: sign in again")
        return SignedIn(user, claims.session_id)


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
