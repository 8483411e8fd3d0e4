"""The calendar feed's use cases: make (or replace) a user's feed, revoke it, read it by its token."""

from __future__ import annotations

import hashlib
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


async def create(session: AsyncSession, *, user: User, now: datetime) -> str:
    """A new feed for the user, replacing the one they had (its URL stops working); its token, which is
    not kept and so can be shown only now."""
    await revoke(session, user=user)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeed(user_id=user.id, token_hash=_hash(token), created_at=now))
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
