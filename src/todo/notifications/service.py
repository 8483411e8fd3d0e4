"""Reading and marking the in-app inbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth.models import User
from todo.errors import NotFound
from todo.notifications.models import Notification


async def get_all(
    session: AsyncSession, *, user: User, unread_only: bool, offset: int, limit: int
) -> tuple[Sequence[Notification], int]:
    where = [Notification.user_id == user.id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(Notification).where(*where))
    rows = await session.scalars(
        select(Notification)
        .where(*where)
        .order_by(Notification.created_at.desc(), Notification.id)
        .offset(offset)
        .limit(limit)
    )
    return rows.all(), total or 0


async def unread_count(session: AsyncSession, *, user: User) -> int:
    query = select(func.count()).select_from(Notification)
    count = await session.scalar(query.where(Notification.user_id == user.id, Notification.read_at.is_(None)))
    return count or 0


async def mark_read(
    session: AsyncSession, *, user: User, notification_id: uuid.UUID, now: datetime
) -> Notification:
    notification = await session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
    )
    if notification is None:
        raise NotFound("notification not found")
    if notification.read_at is None:
        notification.read_at = now
    return notification


async def mark_all_read(session: AsyncSession, *, user: User, now: datetime) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
