"""The analytics consumer: folds task events into the per-task projection, ignoring stale versions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from todo.analytics.models import AnalyticsTask
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


async def prepare(events: Sequence[CloudEvent], session: AsyncSession) -> None:
    """Load and lock the projection rows of the whole batch in one query."""
    ids = {parse_uuid(e.data.get("id"), "data.id") for e in events if e.type in TASK_TYPES}
    rows: dict[uuid.UUID, AnalyticsTask | None] = dict.fromkeys(ids)  # None: no row yet
    if ids:
        query = select(AnalyticsTask).where(AnalyticsTask.task_id.in_(ids)).with_for_update()
        rows.update((row.task_id, row) for row in await session.scalars(query))
    session.info[BATCH_CACHE] = rows


async def _projection_row(session: AsyncSession, task_id: uuid.UUID) -> AnalyticsTask | None:
    prepared: dict[uuid.UUID, AnalyticsTask | None] | None = session.info.get(BATCH_CACHE)
    if prepared is not None and task_id in prepared:
        return prepared[task_id]
    return await session.get(AnalyticsTask, task_id, with_for_update=True)


async def handle(event: CloudEvent, session: AsyncSession) -> None:
    if event.type not in TASK_TYPES:
        return  # series events share the topics; they do not move task counts
    data = event.data
    task_id = parse_uuid(data.get("id"), "data.id")
    version = event.version
    row = await _projection_row(session, task_id)
    if row is not None and row.version >= version:
        return  # an older event arriving late
    created_at = parse_datetime(data.get("created_at"), "data.created_at")
    if created_at is None:
        raise MalformedEvent("data.created_at is required")
    if row is None:
        row = AnalyticsTask(task_id=task_id, user_id=event.user_id, created_at=created_at, version=version)
        session.add(row)
        session.info.get(BATCH_CACHE, {})[task_id] = row
    row.version = version
    row.due_date = parse_datetime(data.get("due_date"), "data.due_date")
    row.completed = bool(data.get("completed"))
    row.completed_at = parse_datetime(data.get("completed_at"), "data.completed_at")
    if event.type == TASK_DELETED.type:
        row.deleted_at = parse_datetime(data.get("updated_at"), "data.updated_at")


analytics_consumer = Consumer(
    name="analytics",
    topics=(Topic.task_created, Topic.task_updated, Topic.task_completed, Topic.task_deleted),
    handle=handle,
    prepare=prepare,
)
