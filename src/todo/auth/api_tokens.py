"""Personal API tokens: made (and shown) once, kept as their SHA-256, listed with when they were last
used, revoked at once. None commits but `authenticate`, which notes the use on its own."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth.models import ApiToken, User
from todo.auth.schemas import ApiTokenCreate
from todo.errors import Conflict, NotFound

PREFIX = "todo_pat_"  # tells an API token from a sign-in's (a JWT) at a glance, and to secret scanners
HINT_LENGTH = 13  # the prefix and four characters of the secret part
MOST_PER_USER = 50
NOTE_USE_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often, not on every request


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    session: AsyncSession, *, user: User, data: ApiTokenCreate, now: datetime
) -> tuple[ApiToken, str]:
    """The new token's row and the token itself (the only time it exists outside the caller's hands)."""
    count = await session.scalar(
        select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id)
    )
    if (count or 0) >= MOST_PER_USER:
        raise Conflict(f"you have {MOST_PER_USER} API tokens already: revoke one first")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(id=uuid.uuid4(), user_id=user.id, name=data.name, scope=data.scope,
                   token_hash=_hash(token), hint=token[:HINT_LENGTH], created_at=now)  # fmt: skip
    session.add(row)
    await session.flush()
    return row, token


async def get_all(session: AsyncSession, *, user: User) -> Sequence[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at, ApiToken.id)
    return (await session.scalars(query)).all()


async def revoke(session: AsyncSession, *, user: User, token_id: uuid.UUID) -> None:
    row = await session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if row is None:
        raise NotFound("API token not found")
    await session.delete(row)


async def authenticate(session: AsyncSession, *, token: str, now: datetime) -> tuple[User, ApiToken] | None:
    """The user and the token row behind `token`, or None (never made, or revoked). In an autocommit
    session: noting the use is a statement of its own."""
    found = (
        await session.execute(
            select(User, ApiToken)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == _hash(token))
        )
    ).one_or_none()
    if found is None:
        return None
    user, row = found
    if row.last_used_at is None or now - row.last_used_at >= NOTE_USE_EVERY:
        await session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        row.last_used_at = now
    return user, row
