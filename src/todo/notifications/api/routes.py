"""The notification endpoints: the inbox (with its live stream), channels, a task's reminders."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy.ext.asyncio import AsyncSession

from todo.db import utcnow
from todo.deps import (
    ChannelSenderDep,
    CurrentUser,
    LiveFeedDep,
    NowDep,
    ReadSessionDep,
    ReadSessionsDep,
    SessionDep,
    Sessions,
)
from todo.errors import InvalidInput
from todo.notifications.api import service
from todo.notifications.api.live import InboxCursor
from todo.notifications.models import Channel, DeliveryAttempt, Notification
from todo.notifications.schemas import (
    FAILING_AFTER,
    ChannelIn,
    ChannelRead,
    ChannelTestResult,
    DeliveryOutcome,
    NotificationRead,
    ReminderRead,
    SnoozeIn,
    UnreadCount,
)
from todo.notifications.sending import ChannelError, ChannelInfo, ChannelSender
from todo.platform.pagination import Page, PageParams, page_params
from todo.tasks import service as tasks
from todo.timeutil import to_utc

router = APIRouter(prefix="/api/notifications", tags=["notifications"])
channels_router = APIRouter(prefix="/api/me/channels", tags=["notifications"])
reminders_router = APIRouter(prefix="/api/tasks/{task_id}", tags=["notifications"])

STREAM_CHECK_SECONDS = 15.0  # how often a quiet stream looks whether its client has gone
# How soon a browser reconnects when its stream ends (its API pod replaced): it resumes where it broke,
# so a reconnect costs one request, and a short wait keeps a toast from coming late.
RECONNECT_MILLISECONDS = 1000


@router.get("", response_model=Page[NotificationRead])
async def list_notifications(
    user: CurrentUser,
    session: ReadSessionDep,
    paging: Annotated[PageParams, Depends(page_params)],
    unread: bool = False,
) -> Page[NotificationRead]:
    """Newest first; `unread=true` leaves out what you have read."""
    rows, total = await service.get_all(
        session, user=user, unread_only=unread, offset=paging.offset, limit=paging.page_size
    )
    items = [NotificationRead.model_validate(n) for n in rows]
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.get("/unread-count", response_model=UnreadCount)
async def count_unread(user: CurrentUser, session: ReadSessionDep) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(session, user=user))


@router.get("/stream", response_class=EventSourceResponse)
async def stream(
    request: Request,
    user: CurrentUser,
    session: ReadSessionDep,
    sessions: ReadSessionsDep,
    feed: LiveFeedDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: `unread` (the count) at once and after new notifications or another change,
    and `notification` for each new one. Browsers reconnect by themselves (a server restarting, an API
    pod replaced) sending the id of the last notification they had: the stream resumes after it."""
    resumed = await _resume_point(session, user.id, last_event_id)
    await session.close()  # a stream may stay open for hours: hold no pooled connection meanwhile
    async with feed.listen(user.id) as changed:
        if resumed is None:
            cursor = InboxCursor(opened_at=utcnow())
            cursor.take(await _written_since(sessions, user.id, cursor))  # there before the stream: not news
        else:
            cursor = InboxCursor.after(*resumed)
            changed.set()  # what came while the client was away is sent at once
        sent = await _unread(sessions, user.id)
        yield ServerSentEvent(event="unread", data=sent, retry=RECONNECT_MILLISECONDS)
        while not feed.closed and not await request.is_disconnected():
            try:
                await asyncio.wait_for(changed.wait(), timeout=STREAM_CHECK_SECONDS)
            except TimeoutError:
                continue
            if feed.closed:
                break  # the browser reconnects to a running server by itself
            changed.clear()
            rows = await _new(sessions, user.id, cursor)
            for row in rows:
                yield ServerSentEvent(
                    event="notification", id=str(row.id), data=NotificationRead.model_validate(row)
                )
            # A commit wakes this process twice on PostgreSQL (its own callback, then its NOTIFY): the
            # second finds nothing new, and the page hears nothing of it.
            if (unread := await _unread(sessions, user.id)) != sent or rows:
                sent = unread
                yield ServerSentEvent(event="unread", data=unread)


async def _resume_point(
    session: AsyncSession, user_id: uuid.UUID, last_event_id: str | None
) -> tuple[uuid.UUID, datetime] | None:
    """The notification a reconnecting client had last, and when it was written; None for a new client,
    or an id that is not one of the user's notifications (the stream then starts afresh)."""
    try:
        notification_id = uuid.UUID(last_event_id or "")
    except ValueError:
        return None
    at = await service.recorded_at(session, user_id=user_id, notification_id=notification_id)
    return None if at is None else (notification_id, at)


async def _written_since(
    sessions: Sessions, user_id: uuid.UUID, cursor: InboxCursor
) -> Sequence[tuple[uuid.UUID, datetime]]:
    async with sessions() as session:
        return await service.written_since(session, user_id=user_id, since=cursor.reads_from)


async def _new(sessions: Sessions, user_id: uuid.UUID, cursor: InboxCursor) -> Sequence[Notification]:
    """The notifications written since the stream last looked: found by id and time, then read whole."""
    async with sessions() as session:
        written = await service.written_since(session, user_id=user_id, since=cursor.reads_from)
        return await service.get_many(session, ids=cursor.take(written))


async def _unread(sessions: Sessions, user_id: uuid.UUID) -> UnreadCount:
    async with sessions() as session:
        return UnreadCount(unread=await service.unread_count_of(session, user_id=user_id))


@router.post("/{notification_id}/read", response_model=NotificationRead)
async def read_one(
    notification_id: uuid.UUID, user: CurrentUser, session: SessionDep, now: NowDep
) -> NotificationRead:
    notification = await service.mark_read(session, user=user, notification_id=notification_id, now=now)
    await session.commit()
    return NotificationRead.model_validate(notification)


@router.post("/read-all", response_model=UnreadCount)
async def read_all(user: CurrentUser, session: SessionDep, now: NowDep) -> UnreadCount:
    await service.mark_all_read(session, user=user, now=now)
    await session.commit()
    return UnreadCount(unread=0)


@channels_router.get("", response_model=list[ChannelRead])
async def list_channels(
    user: CurrentUser, session: SessionDep, sender: ChannelSenderDep
) -> list[ChannelRead]:
    """Where notifications go besides the inbox, each with how it answered last and whether it keeps
    failing. URLs come back with their secrets masked."""
    return await _channels_read(session, sender, await service.get_channels(session, user=user))


@channels_router.put("", response_model=list[ChannelRead])
async def replace_channels(
    wanted: list[ChannelIn], user: CurrentUser, session: SessionDep, now: NowDep, sender: ChannelSenderDep
) -> list[ChannelRead]:
    """Set your channels: any Apprise URL (`mailto://`, `json://` for a webhook, `ntfy://`, `slack://`
    ...). Keep an existing channel by sending its `id` (its URL stays unless you send a new one). A URL
    whose host is inside our network (loopback, private addresses) is refused unless the operator allows
    it."""
    for index, item in enumerate(wanted):
        if item.url is not None:
            await _usable(sender, index, item.url)
    channels = await service.replace_channels(session, user=user, wanted=wanted, now=now)
    await session.commit()
    return await _channels_read(session, sender, channels)


@channels_router.post("/test", response_model=list[ChannelTestResult])
async def test_channels(
    user: CurrentUser, session: SessionDep, sender: ChannelSenderDep
) -> list[ChannelTestResult]:
    """Send a test message to every enabled channel now and say how each one answered."""
    channels = [c for c in await service.get_channels(session, user=user) if c.enabled]
    await session.close()
    results = await asyncio.gather(*(_try(sender, c) for c in channels))
    return list(results)


async def _usable(sender: ChannelSender, index: int, url: str) -> None:
    """A URL the sender understands and may send to, or a 422 naming the field."""
    if sender.describe(url) is None:
        raise InvalidInput(f"{index}.url", "is not a channel URL Apprise understands (see its wiki)")
    try:
        await sender.check(url)
    except ChannelError as exc:
        raise InvalidInput(f"{index}.url", f"is not allowed: {exc}") from exc


async def _try(sender: ChannelSender, channel: Channel) -> ChannelTestResult:
    try:
        await sender.send(
            channel.url, title="todo: test notification", body="Notifications from todo reach you here."
        )
    except ChannelError as exc:
        return ChannelTestResult(channel_id=channel.id, label=channel.label, ok=False, error=str(exc))
    return ChannelTestResult(channel_id=channel.id, label=channel.label, ok=True, error=None)


async def _channels_read(
    session: AsyncSession, sender: ChannelSender, channels: Sequence[Channel]
) -> list[ChannelRead]:
    """The channels as answered, each with its latest attempts (one query for all)."""
    attempts = await service.recent_attempts(
        session, channel_ids=[c.id for c in channels], per_channel=FAILING_AFTER
    )
    return [_channel_read(c, sender.describe(c.url), attempts.get(c.id, [])) for c in channels]


def _channel_read(
    channel: Channel, info: ChannelInfo | None, attempts: Sequence[DeliveryAttempt]
) -> ChannelRead:
    """The channel, masked as `info` has it; `attempts`, its latest, newest first, say how it is doing."""
    last = attempts[0] if attempts else None
    return ChannelRead(
        id=channel.id,
        label=channel.label,
        service=info.service if info else "unknown",
        url=info.masked_url if info else "(not understood)",
        enabled=channel.enabled,
        created_at=channel.created_at,
        last_delivery=None
        if last is None
        else DeliveryOutcome(at=last.attempted_at, ok=last.ok, error=last.error),
        failing=len(attempts) >= FAILING_AFTER and not any(a.ok for a in attempts),
    )


@reminders_router.get("/reminders", response_model=list[ReminderRead])
async def list_reminders(task_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> list[ReminderRead]:
    """The task's reminders: pending, sent (with whether they were late) and cancelled."""
    await tasks.get(session, user=user, task_id=task_id)
    return [ReminderRead.model_validate(r) for r in await service.reminders_of(session, task_id=task_id)]


@reminders_router.post("/snooze", response_model=ReminderRead, status_code=201)
async def snooze(
    task_id: uuid.UUID, data: SnoozeIn, user: CurrentUser, session: SessionDep, now: NowDep
) -> ReminderRead:
    """Remind again about this task, in `minutes` or at `until` (every member of its project, as its other
    reminders do: so a viewer may not)."""
    task = await tasks.get(session, user=user, task_id=task_id, write=True)
    until = now + timedelta(minutes=data.minutes) if data.minutes is not None else data.until
    assert until is not None
    reminder = await service.snooze(session, task=task, until=to_utc(until, user.timezone), now=now)
    await session.commit()
    return ReminderRead.model_validate(reminder)
