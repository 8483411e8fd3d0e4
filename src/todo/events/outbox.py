"""Writing events into the outbox inside the caller's transaction; the relay is woken when it commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from todo import wakeups
from todo.db import utcnow
from todo.events.envelope import EventKind
from todo.events.models import TaskEvent
from todo.platform.metrics import EVENTS_WRITTEN
from todo.wakeups import WakingSession

SOURCE_KEY = "event_source"  # the writer's app-id, the CloudEvent `source`
_PENDING_KEY = "outbox_pending_topics"  # topics written in the open transaction, for the metrics
_INSERT = insert(TaskEvent.__table__)  # type: ignore[arg-type]  # a Table: the plain Core statement


@dataclass(frozen=True)
class NewEvent:
    """An event about to be written: what changed (`kind`, `entity` `subject` of `user_id`), its payload,
    and `at`, the CloudEvent `time`: when the change happened by the application's clock."""

    kind: EventKind
    entity: str
    subject: uuid.UUID
    user_id: uuid.UUID
    data: dict[str, Any]
    at: datetime | None = None


async def record(session: AsyncSession, events: Sequence[NewEvent]) -> None:
    """Write `events` in the caller's transaction, in order; they commit (or roll back) with the change
    they describe, and the relay is woken when they do.

    One INSERT statement for all of them rather than objects for the unit of work: nothing reads the rows
    back in the transaction, and the flush of new objects was a large part of every write request."""
    if not events:
        return
    await session.execute(_INSERT, [row(session, event) for event in events])
    announce(session, events)


def announce(session: AsyncSession, events: Sequence[NewEvent]) -> None:
    """After `events` were inserted by a statement of the caller's own (`row` gives their columns): count
    them and wake the relay, here or in another process, when the transaction commits."""
    session.info.setdefault(_PENDING_KEY, []).extend(event.kind.topic.value for event in events)
    wakeups.after_commit(session, wakeups.OUTBOX)


# The columns `row` fills; the rest (seq, published_at, publish_attempts, last_error) start at their defaults.
COLUMNS = (
    "id",
    "topic",
    "type",
    "event_type",
    "source",
    "entity",
    "subject",
    "user_id",
    "data",
    "created_at",
)


def row(session: AsyncSession, event: NewEvent) -> dict[str, Any]:
    """The outbox row's columns for `event`, as written by this session's app (the CloudEvent source)."""
    source = session.info.get(SOURCE_KEY, "todo")
    return {
        "id": uuid.uuid4(),
        "topic": event.kind.topic.value,
        "type": event.kind.type,
        "event_type": event.kind.event_type,
        "source": source,
        "entity": event.entity,
        "subject": event.subject,
        "user_id": event.user_id,
        "data": {**event.data, "user_id": str(event.user_id)},
        "created_at": event.at or utcnow(),
    }


@event.listens_for(WakingSession, "after_commit")
def _count_written(session: Session) -> None:
    for topic in session.info.pop(_PENDING_KEY, []):
        EVENTS_WRITTEN.labels(topic=topic).inc()


@event.listens_for(WakingSession, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
