"""Writing events into the outbox inside the caller's transaction, and waking the relay on commit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from todo.db import utcnow
from todo.events.envelope import EventKind
from todo.events.models import TaskEvent
from todo.platform.metrics import EVENTS_WRITTEN

NOTIFY_CHANNEL = "todo_outbox"
WAKEUP_KEY = "outbox_wakeup"
SOURCE_KEY = "event_source"  # the writer's app-id, the CloudEvent `source`
_PENDING_KEY = "outbox_pending_topics"  # topics written in the open transaction


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
    return row


class OutboxSession(Session):
    """The sync session class behind our AsyncSessions; it tells the relay when events were committed."""


@event.listens_for(OutboxSession, "before_commit")
def _notify_other_processes(session: Session) -> None:
    """On PostgreSQL, tell the leading relay (maybe in another process) that events are coming."""
    if session.info.get(_PENDING_KEY) and session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))  # delivered when the transaction commits


@event.listens_for(OutboxSession, "after_commit")
def _wake_relay(session: Session) -> None:
    topics: list[str] = session.info.pop(_PENDING_KEY, [])
    if topics:
        for topic in topics:
            EVENTS_WRITTEN.labels(topic=topic).inc()
        wakeup: Callable[[], None] | None = session.info.get(WAKEUP_KEY)
        if wakeup is not None:
            wakeup()


@event.listens_for(OutboxSession, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
