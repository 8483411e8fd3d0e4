"""The inbox consumer: turns due and occurrence events into in-app notifications and queues their
delivery to the user's channels."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, select
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
from todo.projects.models import ProjectMember
from todo.unit_of_work import unit_of

KINDS = {kind.type: kind.event_type for kind in (TASK_DUE_SOON, TASK_DUE, RECURRING_TASK_DUE)}


async def handle(event: CloudEvent, session: AsyncSession) -> None:
    """One notification per member of the task's project (each in their own zone, to their own channels,
    after their own quiet hours), or for its owner alone in events written before projects."""
    kind = KINDS.get(event.type)
    if kind is None:
        raise MalformedEvent(f"unknown event type {event.type!r} on {event.topic}")
    task = event.payload_as(DuePayload)
    batch = unit_of(session).batch
    if not isinstance(batch, _Batch):
        batch = await _load(session, [event])
    recipients = batch.members.get(task.project_id, []) if task.project_id is not None else [event.user_id]
    for user_id in recipients:
        if (user := batch.users.get(user_id)) is not None:  # None: the account was deleted meanwhile
            await _notify(session, event, kind, task, user, channels=batch.channels.get(user_id, []))


async def _notify(
    session: AsyncSession,
    event: CloudEvent,
    kind: str,
    task: DuePayload,
    user: User,
    *,
    channels: list[uuid.UUID],
) -> None:
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
    if not channels:
        wakeups.after_commit(session, wakeups.INBOX, str(user.id))
        return
    await session.flush()  # the deliveries refer to it, and no relationship tells the flush so
    # One delivery per enabled channel, sent by the delivery worker after this commits
    ready_at = after_quiet_hours(sent or notification.created_at, user.quiet_hours, user.timezone)
    for channel_id in channels:
        session.add(
            Delivery(notification_id=notification.id, channel_id=channel_id, next_attempt_at=ready_at)
        )
    if channels:
        wakeups.after_commit(session, wakeups.DELIVERIES)
    wakeups.after_commit(session, wakeups.INBOX, str(user.id))


@dataclass
class _Batch:
    """Who is told of a batch's events and where, read in two queries instead of three per event. The
    members are the project's as they are now: one removed before the reminder fired is not told."""

    members: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=lambda: defaultdict(list))
    users: dict[uuid.UUID, User] = field(default_factory=dict)
    channels: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=lambda: defaultdict(list))


async def prepare(events: Sequence[CloudEvent], session: AsyncSession) -> None:
    unit_of(session).batch = await _load(session, events)


async def _load(session: AsyncSession, events: Sequence[CloudEvent]) -> _Batch:
    batch = _Batch()
    project_ids = {project_id for e in events if (project_id := _project_of(e)) is not None}
    if project_ids:
        members = select(ProjectMember.project_id, ProjectMember.user_id)
        members = members.where(ProjectMember.project_id.in_(project_ids)).order_by(ProjectMember.added_at)
        for project_id, user_id in await session.execute(members):
            batch.members[project_id].append(user_id)
    user_ids = {e.user_id for e in events} | {u for members in batch.members.values() for u in members}
    enabled = and_(Channel.user_id == User.id, Channel.enabled.is_(True))
    users_and_channels = select(User, Channel.id).outerjoin(Channel, enabled).where(User.id.in_(user_ids))
    for user, channel_id in await session.execute(users_and_channels):
        batch.users[user.id] = user
        if channel_id is not None:
            batch.channels[user.id].append(channel_id)
    return batch


def _project_of(event: CloudEvent) -> uuid.UUID | None:
    try:
        return event.payload_as(DuePayload).project_id
    except MalformedEvent:
        return None  # dropped when it is handled


inbox_consumer = Consumer(
    name="notifications-inbox",
    topics=(TASK_DUE_SOON.topic, TASK_DUE.topic, RECURRING_TASK_DUE.topic),
    handle=handle,
    prepare=prepare,
)
