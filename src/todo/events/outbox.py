"""Writing events into the outbox inside the caller's transaction; the relay is woken when it commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import event
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


def record(
    session: AsyncSession,
    kind: EventKind,
    *,
    entity: str,
    subject: uuid.UUID,
    user_id: uuid.UUID,
    data: dict[str, Any],
    at: datetime | None = None,
) -> TaskEvent:
    """Add the event row to the session; it commits (or rolls back) with the change it describes.
    `at` is the CloudEvent `time`: when the change happened by the application's clock."""
    row = TaskEvent(
        id=uuid.uuid4(),
        topic=kind.topic.value,
        type=kind.type,
        event_type=kind.event_type,
        source=session.info.get(SOURCE_KEY, "todo"),
        entity=entity,
        subject=subject,
        user_id=user_id,
        data={**data, "user_id": str(user_id)},
        created_at=at or utcnow(),
    )
    session.add(row)
    session.info.setdefault(_PENDING_KEY, []).append(kind.topic.value)
    wakeups.after_commit(session, wakeups.OUTBOX)  # the relay, here or in another process
    return row


@event.listens_for(WakingSession, "after_commit")
def _count_written(session: Session) -> None:
    for topic in session.info.pop(_PENDING_KEY, []):
        EVENTS_WRITTEN.labels(topic=topic).inc()


@event.listens_for(WakingSession, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
