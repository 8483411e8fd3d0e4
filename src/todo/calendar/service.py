"""The calendar feed's use cases: make (or replace) a user's feed, revoke it, read it by its token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth.models import User
from todo.calendar import feed
from todo.calendar.models import CalendarFeed
from todo.errors import NotFound
from todo.recurrence import service as recurrence
from todo.tasks import listing
from todo.tasks.schemas import TaskStatus

MOST = 1000  # tasks, and series, a feed holds: the open ones most recently made


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_of(found: CalendarFeed, *, secret: str) -> str | None:
    """The feed's token, derived again (None for a feed made before tokens were derived: its token was
    never kept)."""
    if found.nonce is None:
        return None
    key = hmac.new(secret.encode(), b"todo calendar feed", hashlib.sha256).digest()
    mac = hmac.new(key, f"{found.user_id}:{found.nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


async def create(session: AsyncSession, *, user: User, secret: str, now: datetime) -> str:
    """A new feed for the user, replacing the one they had (its URL stops working); its token."""
    await revoke(session, user=user)
    made = CalendarFeed(user_id=user.id, nonce=secrets.token_hex(16), created_at=now)
    token = token_of(made, secret=secret)
    assert token is not None
    made.token_hash = _hash(token)
    session.add(made)
    await session.flush()
    return token


async def get(session: AsyncSession, *, user: User) -> CalendarFeed | None:
    return await session.get(CalendarFeed, user.id)


async def revoke(session: AsyncSession, *, user: User) -> None:
    await session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))


async def document(session: AsyncSession, *, token: str, now: datetime) -> bytes:
    """The feed behind `token` as iCalendar; NotFound for a token that opens none (revoked, replaced,
    never made), saying no more than that."""
    found = await session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token)))
    user = None if found is None else await session.get(User, found.user_id)
    if found is None or user is None:
        raise NotFound("no such calendar feed")
    found.last_read_at = now
    open_tasks, _ = await listing.get_all(
        session, user=user, filters=listing.TaskFilters(status=TaskStatus.open), now=now, offset=0, limit=MOST
    )
    rows, _ = await recurrence.get_all(session, user=user, offset=0, limit=MOST)
    active = [recurrence.to_read(series, now) for series in rows if series.is_active]
    return feed.document(tasks=open_tasks, series=active, now=now)
