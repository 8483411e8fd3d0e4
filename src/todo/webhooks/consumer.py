"""The webhook consumer: queues each event for the subscriptions that want it.

Whose subscriptions: those of the members of the event's project as they are now (the owner alone for an
event that names no project), active, subscribed to the event's kind. What is queued: the CloudEvent's
JSON, fixed now, so that every attempt sends the same bytes and the same signature. The delivery worker
sends it after this commits. A queued delivery is unique per subscription and event: a redelivered
event queues nothing twice.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    String,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from todo import wakeups
from todo.db import UTCDateTime, dialect_of, insert_or_merge
from todo.events.consumers import Consumer, SetStatement
from todo.events.envelope import CloudEvent, MalformedEvent, parse_datetime
from todo.projects.models import ProjectMember
from todo.webhooks.events import NAMES, TOPICS, public_name
from todo.webhooks.models import Webhook, WebhookDelivery, WebhookDeliveryState

_COLUMNS = ("event_id", "event_type", "subject", "body", "project_id", "owner_id", "at")


@dataclass(frozen=True)
class _Queued:
    """An event as the queue takes it."""

    event: CloudEvent
    event_id: str
    event_type: str  # its public name
    subject: str
    project_id: uuid.UUID | None
    owner_id: uuid.UUID
    at: datetime  # the event's time (the application's clock): when it may first be sent

    @functools.cached_property
    def body(self) -> str:
        """The CloudEvent's JSON, the same bytes for every attempt: made only when someone subscribed (or
        the database decides, in one statement)."""
        return json.dumps(self.event.to_json(), separators=(",", ":"), ensure_ascii=False)


def _queued(event: CloudEvent) -> _Queued:
    name = public_name(event.type)
    if name not in NAMES:
        raise MalformedEvent(f"unknown event type {event.type!r} on {event.topic}")
    payload = event.payload
    project_id = getattr(payload, "project_id", None)
    at = parse_datetime(event.time, "time")
    if at is None:
        raise MalformedEvent("time is missing")
    return _Queued(event, event.id, name, event.subject, project_id, payload.user_id, at)


async def handle(event: CloudEvent, session: AsyncSession) -> None:
    await handle_batch([event], session)


async def handle_batch(events: Sequence[CloudEvent], session: AsyncSession) -> None:
    """The batch's deliveries. First the subscriptions of everyone its events concern, one statement that
    usually finds none and then is all; only with some, the projects' members and the rows."""
    queued = [_queued(event) for event in events]
    projects = {q.project_id for q in queued if q.project_id is not None}
    hooks = await _subscriptions(session, {q.owner_id for q in queued}, projects)
    if not hooks:
        return
    members: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if projects:
        query = select(ProjectMember.project_id, ProjectMember.user_id).where(
            ProjectMember.project_id.in_(projects)
        )
        for project_id, user_id in await session.execute(query):
            members[project_id].append(user_id)
    rows = [
        _row(hook.id, q)
        for q in queued
        for user_id in (members[q.project_id] if q.project_id is not None else [q.owner_id])
        for hook in hooks[user_id]
        if q.event_type in hook.events
    ]
    if rows:
        await session.execute(_queue(dialect_of(session)), rows)
        wakeups.after_commit(session, wakeups.WEBHOOKS)


async def _subscriptions(
    session: AsyncSession, owners: set[uuid.UUID], projects: set[uuid.UUID]
) -> dict[uuid.UUID, list[Webhook]]:
    """The active subscriptions, by user, of the events' owners and of their projects' members."""
    audience: ColumnElement[bool] = Webhook.user_id.in_(owners)
    if projects:
        members = select(ProjectMember.user_id).where(ProjectMember.project_id.in_(projects))
        audience = or_(audience, Webhook.user_id.in_(members))
    hooks: dict[uuid.UUID, list[Webhook]] = defaultdict(list)
    for hook in await session.scalars(select(Webhook).where(Webhook.active, audience)):
        hooks[hook.user_id].append(hook)
    return hooks


_INSERTED = ("webhook_id", "event_id", "event_type", "subject", "body", "state", "attempts",
             "next_attempt_at", "created_at")  # fmt: skip


def _row(webhook_id: uuid.UUID, q: _Queued) -> dict[str, Any]:
    values = (webhook_id, q.event_id, q.event_type, q.subject, q.body, WebhookDeliveryState.pending.value, 0,
              q.at, q.at)  # fmt: skip
    return dict(zip(_INSERTED, values, strict=True))


@functools.cache
def _queue(dialect: str) -> Any:
    return insert_or_merge(dialect, WebhookDelivery).on_conflict_do_nothing(
        index_elements=["webhook_id", "event_id"]
    )


def in_one_statement(events: Sequence[CloudEvent]) -> SetStatement:
    """On PostgreSQL, with the other consumers' effects and the claim, in one statement: the database
    finds the subscriptions (usually none) and announces what it queued (migration 0012's trigger)."""
    queued = [_queued(event) for event in events]

    return SetStatement(
        _QUEUE_ARRAYS, lambda: {f"webhooks_{c}": [getattr(q, c) for q in queued] for c in _COLUMNS}
    )


def _queue_arrays() -> Insert:
    """PostgreSQL: the batch's events as arrays (`webhooks_<column>`), joined to the subscriptions that
    want them, in the events' order; nothing handed back."""
    types: dict[str, Any] = {"event_id": String(), "event_type": String(), "subject": String(),
                             "body": Text(), "project_id": Uuid(), "owner_id": Uuid(),
                             "at": UTCDateTime()}  # fmt: skip
    arrays = [bindparam(f"webhooks_{c}", type_=ARRAY(types[c])) for c in _COLUMNS]
    e = func.unnest(*arrays).table_valued(*_COLUMNS, with_ordinality="n").render_derived()
    members = select(ProjectMember.user_id).where(ProjectMember.project_id == e.c.project_id)
    audience = or_(
        Webhook.user_id.in_(members.scalar_subquery()),
        and_(e.c.project_id.is_(None), Webhook.user_id == e.c.owner_id),
    )
    wanted = and_(Webhook.active, cast(Webhook.events, JSONB).has_key(e.c.event_type), audience)
    rows = (
        select(
            Webhook.id,
            e.c.event_id,
            e.c.event_type,
            e.c.subject,
            e.c.body,
            literal(WebhookDeliveryState.pending.value),
            literal(0),
            e.c.at,
            e.c.at,
        )
        .select_from(e)
        .join(Webhook, wanted)
        .order_by(e.c.n, Webhook.id)
    )
    table: Table = WebhookDelivery.__table__  # type: ignore[assignment]
    insert = postgresql.insert(table).from_select(list(_INSERTED), rows)
    return insert.on_conflict_do_nothing(index_elements=["webhook_id", "event_id"])


_QUEUE_ARRAYS = _queue_arrays()

webhooks_consumer = Consumer(
    name="webhooks",
    topics=TOPICS,
    handle=handle,
    handle_batch=handle_batch,
    in_one_statement=in_one_statement,
)
