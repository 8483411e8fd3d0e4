"""Writing events into the outbox inside the caller's transaction; the relay is woken when it commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession

from todo import wakeups
from todo.db import utcnow
from todo.events.envelope import EventKind
from todo.events.models import TaskEvent
from todo.events.payloads import EventPayload, written
from todo.platform.metrics import EVENTS_WRITTEN
from todo.unit_of_work import UnitOfWork, unit_of

_INSERT = insert(TaskEvent.__table__)  # type: ignore[arg-type]  # a Table: the plain Core statement


@dataclass(frozen=True)
class NewEvent:
    """An event about to be written: what changed (`kind`, `entity` `subject`), its payload (the kind's),
    and `at`, the CloudEvent `time`: when the change happened by the application's clock."""

    kind: EventKind
    entity: str
    subject: uuid.UUID
    payload: EventPayload
    at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.payload, self.kind.payload):
            raise TypeError(f"{self.kind.type} carries a {self.kind.payload.__name__}, not this payload")


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
    unit_of(session).topics_written.extend(event.kind.topic.value for event in events)
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
    source = unit_of(session).source
    return {
        "id": uuid.uuid4(),
        "topic": event.kind.topic.value,
        "type": event.kind.type,
        "event_type": event.kind.event_type,
        "source": source,
        "entity": event.entity,
        "subject": event.subject,
        "user_id": event.payload.user_id,
        "data": written(event.payload),
        "created_at": event.at or utcnow(),
    }


@event.listens_for(UnitOfWork, "after_commit")
def _count_written(session: UnitOfWork) -> None:
    topics, session.topics_written = session.topics_written, []
    for topic in topics:
        EVENTS_WRITTEN.labels(topic=topic).inc()


@event.listens_for(UnitOfWork, "after_rollback")
def _forget(session: UnitOfWork) -> None:
    session.topics_written.clear()
