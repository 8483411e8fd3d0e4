"""The inbox consumer: turns due and occurrence events into in-app notifications and queues their
delivery to the user's channels."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from todo import wakeups
from todo.auth.models import User
from todo.events.consumers import Consumer
from todo.events.envelope import (
    RECURRING_TASK_DUE,
    TASK_DUE,
    TASK_DUE_SOON,
    CloudEvent,
    MalformedEvent,
    parse_datetime,
)
from todo.events.payloads import DuePayload
from todo.notifications.messages import compose
from todo.notifications.models import Channel, Delivery, Notification
from todo.notifications.quiet_hours import after_quiet_hours
from todo.unit_of_work import unit_of

KINDS = {kind.type: kind.event_type for kind in (TASK_DUE_SOON, TASK_DUE, RECURRING_TASK_DUE)}


async def handle(event: CloudEvent, session: AsyncSession) -> None:
    kind = KINDS.get(event.type)
    if kind is None:
        raise MalformedEvent(f"unknown event type {event.type!r} on {event.topic}")
    user = await _user(session, event.user_id)
    if user is None:
        return  # the account was deleted meanwhile: nobody to tell
    task = event.payload_as(DuePayload)
    due = task.due_date
    sent = parse_datetime(event.time, "time")
    late = task.reminder is not None and task.reminder.late
    message = compose(
        kind,
        task_title=task.title,
        due=due,
        now=sent or due or user.created_at,
        tz_name=user.timezone,
        late=late,
    )
    notification = Notification(
        id=uuid.uuid4(),
        user_id=user.id,
        task_id=task.id,
        kind=kind,
        title=message.title[:300],
        body=message.body,
        due_at=due,
        event_id=event.id,
        created_at=sent,
    )
    session.add(notification)
    ready_at = after_quiet_hours(sent or notification.created_at, user.quiet_hours, user.timezone)
    await _queue_deliveries(session, notification, ready_at=ready_at)
    wakeups.after_commit(session, wakeups.INBOX, str(user.id))


@dataclass
class _Batch:
    """What a batch needs, read in two queries instead of two per event."""

    users: dict[uuid.UUID, User] = field(default_factory=dict)
    channels: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=lambda: defaultdict(list))


async def prepare(events: Sequence[CloudEvent], session: AsyncSession) -> None:
    user_ids = {e.user_id for e in events}
    batch = _Batch(users={u.id: u for u in await session.scalars(select(User).where(User.id.in_(user_ids)))})
    rows = await session.execute(
        select(Channel.user_id, Channel.id).where(Channel.user_id.in_(user_ids), Channel.enabled.is_(True))
    )
    for user_id, channel_id in rows:
        batch.channels[user_id].append(channel_id)
    unit_of(session).batch = batch


async def _user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    if isinstance(batch := unit_of(session).batch, _Batch):
        return batch.users.get(user_id)
    return await session.get(User, user_id)


async def _channels_of(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    if isinstance(batch := unit_of(session).batch, _Batch):
        return batch.channels.get(user_id, [])
    query = select(Channel.id).where(Channel.user_id == user_id, Channel.enabled.is_(True))
    return list(await session.scalars(query))


async def _queue_deliveries(session: AsyncSession, notification: Notification, *, ready_at: datetime) -> None:
    """One delivery per enabled channel; the delivery worker sends them after this commits."""
    channels = await _channels_of(session, notification.user_id)
    for channel_id in channels:
        session.add(
            Delivery(notification_id=notification.id, channel_id=channel_id, next_attempt_at=ready_at)
        )
    if channels:
        wakeups.after_commit(session, wakeups.DELIVERIES)


inbox_consumer = Consumer(
    name="notifications-inbox",
    topics=(TASK_DUE_SOON.topic, TASK_DUE.topic, RECURRING_TASK_DUE.topic),
    handle=handle,
    prepare=prepare,
)
