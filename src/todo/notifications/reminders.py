"""The reminder schedule: kept from the task events, so the clock knows what to send and when.

Each task event replans the task's pending reminders from its snapshot: leads that still apply keep
their row, the others are cancelled, new ones are added. Events older than the last one applied (by
task `version`) change nothing, whatever order the broker delivers them in.
"""

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
from todo.events.consumers import BATCH_CACHE, Consumer
from todo.events.envelope import (
    TASK_DELETED,
    TASK_TYPES,
    CloudEvent,
    MalformedEvent,
    Topic,
    parse_datetime,
    parse_uuid,
)
from todo.notifications.models import Reminder, ReminderSource, ReminderState
from todo.notifications.schedule import PlannedReminder, ReminderKind, plan


@dataclass
class _Loaded:
    """What a batch needs, read in two queries instead of two per event."""

    sources: dict[uuid.UUID, ReminderSource | None] = field(default_factory=dict)
    pending: dict[uuid.UUID, list[Reminder]] = field(default_factory=lambda: defaultdict(list))
    users: dict[uuid.UUID, User] = field(default_factory=dict)


async def prepare(events: Sequence[CloudEvent], session: AsyncSession) -> None:
    ids = {parse_uuid(e.data.get("id"), "data.id") for e in events if e.type in TASK_TYPES}
    loaded = _Loaded(sources=dict.fromkeys(ids))
    if ids:
        sources = select(ReminderSource).where(ReminderSource.task_id.in_(ids)).with_for_update()
        loaded.sources.update((s.task_id, s) for s in await session.scalars(sources))
        pending = select(Reminder).where(Reminder.task_id.in_(ids), Reminder.state == ReminderState.pending)
        for reminder in await session.scalars(pending):
            loaded.pending[reminder.task_id].append(reminder)
        owners = select(User).where(User.id.in_({e.user_id for e in events if e.type in TASK_TYPES}))
        loaded.users = {user.id: user for user in await session.scalars(owners)}
    session.info[BATCH_CACHE] = loaded


async def _load(session: AsyncSession, task_id: uuid.UUID) -> tuple[ReminderSource | None, list[Reminder]]:
    loaded: _Loaded | None = session.info.get(BATCH_CACHE)
    if loaded is not None and task_id in loaded.sources:
        return loaded.sources[task_id], loaded.pending[task_id]
    source = await session.get(ReminderSource, task_id, with_for_update=True)
    query = select(Reminder).where(Reminder.task_id == task_id, Reminder.state == ReminderState.pending)
    return source, list(await session.scalars(query))


async def handle(event: CloudEvent, session: AsyncSession) -> None:
    if event.type not in TASK_TYPES:
        return  # series events share the topics
    data = event.data
    task_id, version = parse_uuid(data.get("id"), "data.id"), event.version
    source, pending = await _load(session, task_id)
    if source is not None and source.version >= version:
        return  # a stale or repeated event
    if source is None:
        source = ReminderSource(task_id=task_id, version=version)
        session.add(source)
        loaded: _Loaded | None = session.info.get(BATCH_CACHE)
        if loaded is not None:
            loaded.sources[task_id] = source
    source.version = version

    finished = event.type == TASK_DELETED.type or bool(data.get("completed"))
    changed_at = parse_datetime(data.get("updated_at"), "data.updated_at")
    if changed_at is None:
        raise MalformedEvent("data.updated_at is required")
    owner = await _owner(session, event.user_id)
    if owner is None:
        finished = True  # the account is gone: nothing left to remind anyone of
    due = None if finished else parse_datetime(data.get("due_date"), "data.due_date")
    wanted = plan(due, _leads(event, owner), changed_at=changed_at)
    if _replan(session, event, pending, wanted, finished=finished, version=version, due=due):
        wakeups.after_commit(session, wakeups.REMINDERS)  # a new one may be due before the clock's next wake


def _replan(
    session: AsyncSession,
    event: CloudEvent,
    pending: list[Reminder],
    wanted: list[PlannedReminder],
    *,
    finished: bool,
    version: int,
    due: datetime | None,
) -> bool:
    """Cancel the pending reminders no longer wanted, add the new ones; whether any was added."""
    wanted_keys = {(p.kind.value, p.minutes_before, p.fire_at) for p in wanted}
    kept: set[tuple[str, int | None, object]] = set()
    for reminder in list(pending):
        key = (reminder.kind, reminder.minutes_before, reminder.fire_at)
        still_wanted = key in wanted_keys or (reminder.kind == ReminderKind.snooze and not finished)
        if still_wanted:
            reminder.task_version = version
            kept.add(key)
        else:
            reminder.state = ReminderState.cancelled
            pending.remove(reminder)
    added = False
    for planned in wanted:
        if (planned.kind.value, planned.minutes_before, planned.fire_at) in kept:
            continue
        added = True
        reminder = Reminder(
            id=uuid.uuid4(),
            task_id=parse_uuid(event.data.get("id"), "data.id"),
            user_id=event.user_id,
            kind=planned.kind.value,
            minutes_before=planned.minutes_before,
            due_at=due,
            fire_at=planned.fire_at,
            state=ReminderState.pending,
            task_version=version,
            created_at=parse_datetime(event.time, "time"),
        )
        session.add(reminder)
        pending.append(reminder)
    return added


async def _owner(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    loaded: _Loaded | None = session.info.get(BATCH_CACHE)
    return loaded.users.get(user_id) if loaded is not None else await session.get(User, user_id)


def _leads(event: CloudEvent, owner: User | None) -> list[int]:
    """The task's own reminder leads, or its owner's defaults."""
    own = event.data.get("reminder_minutes")
    if own is None:
        return list(owner.reminder_minutes) if owner is not None else []
    if not isinstance(own, list) or not all(isinstance(m, int) and m >= 0 for m in own):
        raise MalformedEvent("data.reminder_minutes must be a list of non-negative integers")
    return own


reminder_schedule_consumer = Consumer(
    name="notifications-reminders",
    topics=(Topic.task_created, Topic.task_updated, Topic.task_completed, Topic.task_deleted),
    handle=handle,
    prepare=prepare,
)
