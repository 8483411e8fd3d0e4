"""The analytics consumer: folds task events into the per-task projection, ignoring stale versions.

One upsert per batch: each task's newest event in the batch is written unless the projection already
holds that version or a newer one (the check is the statement's own, so no row is read or locked first).
That makes it safe on events seen before, so on PostgreSQL it can join the delivery's one statement.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, Executable, Insert, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from todo.analytics.models import AnalyticsTask
from todo.db import dialect_of, insert_or_merge
from todo.events.consumers import Consumer, SetStatement
from todo.events.envelope import TASK_DELETED, TASK_TYPES, CloudEvent, Topic
from todo.events.payloads import TaskPayload


def projection_row(event: CloudEvent) -> dict[str, Any]:
    """The projection row a task event describes; MalformedEvent if its payload is not a task's."""
    task = event.payload_as(TaskPayload)
    deleted = event.type == TASK_DELETED.type
    return {
        "task_id": task.id,
        "user_id": task.user_id,
        "project_id": task.project_id,
        "created_at": task.created_at,
        "version": task.version,
        "due_date": task.due_date,
        "completed": task.completed,
        "completed_at": task.completed_at,
        "deleted_at": task.updated_at if deleted else None,
    }


def newest_per_task(events: Sequence[CloudEvent]) -> list[dict[str, Any]]:
    """One row per task: its newest event's (nothing follows a task's deletion, so the newest event
    carries everything the older ones would have left). Series events share the topics; they do not
    move task counts."""
    newest: dict[uuid.UUID, dict[str, Any]] = {}
    for event in events:
        if event.type not in TASK_TYPES:
            continue
        row = projection_row(event)
        kept = newest.get(row["task_id"])
        if kept is None or kept["version"] < row["version"]:
            newest[row["task_id"]] = row
    return list(newest.values())


async def handle_batch(events: Sequence[CloudEvent], session: AsyncSession) -> None:
    rows = newest_per_task(events)
    if rows:
        await session.execute(_upsert(dialect_of(session)), rows)


@functools.cache
def _upsert(dialect: str) -> Executable:
    return _newer_wins(insert_or_merge(dialect, AnalyticsTask))


def in_one_statement(events: Sequence[CloudEvent]) -> SetStatement:
    return SetStatement(_UPSERT_ARRAYS, lambda: _as_arrays(newest_per_task(events)))


def _as_arrays(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {f"analytics_{c}": [row[c] for row in rows] for c in _COLUMNS}


_COLUMNS = (
    "task_id",
    "user_id",
    "project_id",
    "created_at",
    "version",
    "due_date",
    "completed",
    "completed_at",
    "deleted_at",
)


def _upsert_arrays() -> Insert:
    """PostgreSQL: the upsert of rows given as one array per column (`analytics_<column>`)."""
    table: Table = AnalyticsTask.__table__  # type: ignore[assignment]
    arrays = [bindparam(f"analytics_{c}", type_=ARRAY(table.c[c].type)) for c in _COLUMNS]
    rows = func.unnest(*arrays).table_valued(*_COLUMNS).render_derived()
    return _newer_wins(postgresql.insert(table).from_select(_COLUMNS, select(*rows.c)))


def _newer_wins(insert: postgresql.Insert | sqlite.Insert) -> postgresql.Insert | sqlite.Insert:
    newer = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=[AnalyticsTask.task_id],
        set_={
            "version": newer.version,
            "project_id": newer.project_id,
            "due_date": newer.due_date,
            "completed": newer.completed,
            "completed_at": newer.completed_at,
            "deleted_at": func.coalesce(newer.deleted_at, AnalyticsTask.deleted_at),
        },
        where=AnalyticsTask.version < newer.version,
    )


_UPSERT_ARRAYS = _upsert_arrays()


async def handle(event: CloudEvent, session: AsyncSession) -> None:
    await handle_batch([event], session)


analytics_consumer = Consumer(
    name="analytics",
    topics=(Topic.task_created, Topic.task_updated, Topic.task_completed, Topic.task_deleted),
    handle=handle,
    handle_batch=handle_batch,
    in_one_statement=in_one_statement,
)
