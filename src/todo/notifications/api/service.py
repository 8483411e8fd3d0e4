"""Notification use cases: the inbox, the channels, a task's reminders and snoozing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from todo import wakeups
from todo.auth.models import User
from todo.errors import InvalidInput, NotFound
from todo.notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    Notification,
    Reminder,
    ReminderState,
)
from todo.notifications.schedule import ReminderKind
from todo.notifications.schemas import ChannelIn
from todo.tasks.models import Task


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
    return await unread_count_of(session, user_id=user.id)


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


async def get_channels(session: AsyncSession, *, user: User) -> Sequence[Channel]:
    rows = await session.scalars(
        select(Channel).where(Channel.user_id == user.id).order_by(Channel.position, Channel.id)
    )
    return rows.all()


async def recent_attempts(
    session: AsyncSession, *, channel_ids: Sequence[uuid.UUID], per_channel: int
) -> dict[uuid.UUID, list[DeliveryAttempt]]:
    """Each channel's latest delivery attempts, newest first."""
    if not channel_ids:
        return {}
    numbered = (
        select(
            DeliveryAttempt.id,
            Delivery.channel_id,
            func.row_number()
            .over(partition_by=Delivery.channel_id, order_by=DeliveryAttempt.attempted_at.desc())
            .label("n"),
        )
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.channel_id.in_(channel_ids))
        .subquery()
    )
    rows = await session.execute(
        select(numbered.c.channel_id, DeliveryAttempt)
        .join(numbered, numbered.c.id == DeliveryAttempt.id)
        .where(numbered.c.n <= per_channel)
        .order_by(numbered.c.channel_id, numbered.c.n)
    )
    found: dict[uuid.UUID, list[DeliveryAttempt]] = {}
    for channel_id, attempt in rows:
        found.setdefault(channel_id, []).append(attempt)
    return found


async def replace_channels(
    session: AsyncSession, *, user: User, wanted: Sequence[ChannelIn], now: datetime
) -> Sequence[Channel]:
    """Make the user's channels exactly `wanted`: listed ids are kept (and edited), the rest removed. The
    caller has checked every URL with the channel sender (understood, and allowed)."""
    current = {c.id: c for c in await get_channels(session, user=user)}
    kept: set[uuid.UUID] = set()
    for index, item in enumerate(wanted):
        channel = _kept_or_new(session, current, item, index=index, user=user, now=now)
        channel.label, channel.enabled, channel.position = item.label, item.enabled, index
        kept.add(channel.id)
    for channel in current.values():
        if channel.id not in kept:
            await session.delete(channel)
    await session.flush()
    return [c for c in await get_channels(session, user=user)]


def _kept_or_new(
    session: AsyncSession,
    current: dict[uuid.UUID, Channel],
    item: ChannelIn,
    *,
    index: int,
    user: User,
    now: datetime,
) -> Channel:
    if item.id is not None:
        channel = current.get(item.id)
        if channel is None:
            raise InvalidInput(f"{index}.id", "is not one of your channels")
        if item.url is not None:
            channel.url = item.url
        return channel
    if item.url is None:
        raise InvalidInput(f"{index}.url", "is required for a new channel")
    channel = Channel(id=uuid.uuid4(), user_id=user.id, url=item.url, created_at=now)
    session.add(channel)
    return channel


async def reminders_of(session: AsyncSession, *, task_id: uuid.UUID) -> Sequence[Reminder]:
    rows = await session.scalars(
        select(Reminder).where(Reminder.task_id == task_id).order_by(Reminder.fire_at, Reminder.kind)
    )
    return rows.all()


async def snooze(session: AsyncSession, *, task: Task, until: datetime, now: datetime) -> Reminder:
    """A one-off reminder of `task` at `until`; it survives edits, not completion or deletion."""
    if until <= now:
        raise InvalidInput("until", "must be in the future")
    if task.completed:
        raise InvalidInput("task", "is completed: there is nothing to be reminded of")
    reminder = Reminder(
        id=uuid.uuid4(),
        task_id=task.id,
        user_id=task.user_id,
        kind=ReminderKind.snooze.value,
        due_at=task.due_date,
        fire_at=until,
        state=ReminderState.pending.value,
        task_version=task.version,
        created_at=now,
    )
    session.add(reminder)
    wakeups.after_commit(session, wakeups.REMINDERS, until.isoformat())
    return reminder


async def unread_count_of(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(Notification)
    count = await session.scalar(query.where(Notification.user_id == user_id, Notification.read_at.is_(None)))
    return count or 0


async def recorded_at(
    session: AsyncSession, *, user_id: uuid.UUID, notification_id: uuid.UUID
) -> datetime | None:
    """When the user's notification was written; None if it is not theirs or not there."""
    query = select(Notification.recorded_at).where(Notification.id == notification_id)
    return await session.scalar(query.where(Notification.user_id == user_id))


async def written_since(
    session: AsyncSession, *, user_id: uuid.UUID, since: datetime
) -> Sequence[tuple[uuid.UUID, datetime]]:
    """(id, recorded_at) of the user's notifications written at `since` or later: a short window, read
    whole on every wake-up of a live stream, so only the two columns."""
    query = select(Notification.id, Notification.recorded_at)
    rows = await session.execute(
        query.where(Notification.user_id == user_id, Notification.recorded_at >= since)
    )
    return [(row[0], row[1]) for row in rows]


async def get_many(session: AsyncSession, *, ids: Sequence[uuid.UUID]) -> Sequence[Notification]:
    """The notifications of `ids`, in the order they were written."""
    if not ids:
        return []
    query = select(Notification).where(Notification.id.in_(ids))
    return (await session.scalars(query.order_by(Notification.recorded_at, Notification.id))).all()
