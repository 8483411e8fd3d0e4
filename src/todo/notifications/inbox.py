"""The inbox consumer: turns due and occurrence events into in-app notifications and queues their
delivery to the user's channels."""

from __future__ import annotations

import uuid
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
    parse_uuid,
)
from todo.notifications.messages import compose
from todo.notifications.models import Channel, Delivery, Notification

KINDS = {kind.type: kind.event_type for kind in (TASK_DUE_SOON, TASK_DUE, RECURRING_TASK_DUE)}


async def handle(event: CloudEvent, session: AsyncSession) -> None:
    kind = KINDS.get(event.type)
    if kind is None:
        raise MalformedEvent(f"unknown event type {event.type!r} on {event.topic}")
    user = await session.get(User, event.user_id)
    if user is None:
        return  # the account was deleted meanwhile: nobody to tell
    data = event.data
    title = data.get("title")
    if not isinstance(title, str):
        raise MalformedEvent("data.title is required")
    due = parse_datetime(data.get("due_date"), "data.due_date")
    sent = parse_datetime(event.time, "time")
    reminder = data.get("reminder")
    late = isinstance(reminder, dict) and reminder.get("late") is True
    message = compose(
        kind, task_title=title, due=due, now=sent or due or user.created_at, tz_name=user.timezone, late=late
    )
    notification = Notification(
        id=uuid.uuid4(),
        user_id=user.id,
        task_id=parse_uuid(data.get("id"), "data.id"),
        kind=kind,
        title=message.title[:300],
        body=message.body,
        due_at=due,
        event_id=event.id,
        created_at=sent,
    )
    session.add(notification)
    await _queue_deliveries(session, notification, ready_at=sent or notification.created_at)
    wakeups.after_commit(session, wakeups.INBOX, str(user.id))


async def _queue_deliveries(session: AsyncSession, notification: Notification, *, ready_at: datetime) -> None:
    """One delivery per enabled channel; the delivery worker sends them after this commits."""
    channels = await session.scalars(
        select(Channel.id).where(Channel.user_id == notification.user_id, Channel.enabled.is_(True))
    )
    queued = False
    for channel_id in channels:
        session.add(
            Delivery(notification_id=notification.id, channel_id=channel_id, next_attempt_at=ready_at)
        )
        queued = True
    if queued:
        wakeups.after_commit(session, wakeups.DELIVERIES)


inbox_consumer = Consumer(
    name="notifications-inbox",
    topics=(TASK_DUE_SOON.topic, TASK_DUE.topic, RECURRING_TASK_DUE.topic),
    handle=handle,
)
